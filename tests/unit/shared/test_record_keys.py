"""Each message type of the contract says its record key, and the operator CLI keys what it sends by it."""

from __future__ import annotations

import string
import uuid

import pytest

from shared.cli.messages import record_key
from shared.contract.base import CommandRejected, Message
from shared.contract.funding import BudgetThresholdCrossed
from shared.contract.schemas import contract_models
from shared.contract.workshops import EraseParticipantData, ParticipantDataErased

KEYED = {
    ce_type: model for ce_type, model in contract_models().items() if ce_type != "programme.NotificationRequested.v1"
}


@pytest.mark.parametrize("model", KEYED.values(), ids=list(KEYED))
def test_every_key_template_names_only_fields_of_its_type(model: type[Message]) -> None:
    named = {field for _, field, _, _ in string.Formatter().parse(model.key_template) if field}
    assert named
    assert named <= set(model.model_fields)


def test_the_keys_are_the_contracts() -> None:
    application_id = str(uuid.uuid4())
    assert record_key("applications.SubmitApplication.v1", {"application_id": application_id}) == application_id
    assert record_key("funding.DecideFunding.v1", {"application_id": application_id}) == application_id
    assert record_key("funding.AllocateBudget.v1", {"programme_year": 2027, "amount_nok": 1}) == "budget-2027"
    assert record_key("workshops.EraseParticipantData.v1", {"email": "kari@example.no"}) == "kari@example.no"
    crossed = BudgetThresholdCrossed(programme_year=2027, remaining_nok=0, threshold="exhausted", total_nok=10)
    assert crossed.record_key() == "budget-2027"
    erasure_id = uuid.uuid4()
    assert ParticipantDataErased(erasure_id=erasure_id, registrations=2).record_key() == str(erasure_id)
    rejected = CommandRejected(command_id="c", command_type="t", subject="budget-2027", reasons=[])
    assert rejected.record_key() == "budget-2027"


def test_only_the_erasure_request_is_keyed_by_a_person() -> None:
    assert [model for model in KEYED.values() if model.personal_key] == [EraseParticipantData]


def test_a_command_whose_key_cannot_be_told_asks_for_one() -> None:
    with pytest.raises(ValueError, match="give --key"):
        record_key("applications.SubmitApplication.v1", {"title": "no id"})
    with pytest.raises(ValueError, match="give --key"):
        record_key("applications.SubmitApplication.v9", {"application_id": "x"})
