"""Policy values are configuration: the contract's defaults, overridden from the environment, checked at start."""

from __future__ import annotations

import pytest
from funding.domain.policy import Policy
from funding.settings import FundingSettings
from pydantic import ValidationError


def test_the_policy_defaults_are_the_contracts() -> None:
    assert FundingSettings().policy() == Policy(
        max_aid_intensity_pct={"micro": 50, "small": 50, "medium": 40, "large": 25},
        de_minimis_cap_nok=3_300_000,
        low_threshold_pct=10,
    )


def test_the_policy_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDING_MAX_AID_INTENSITY_PCT", '{"micro": 60, "small": 55, "medium": 45, "large": 30}')
    monkeypatch.setenv("FUNDING_DE_MINIMIS_CAP_NOK", "4000000")
    monkeypatch.setenv("FUNDING_BUDGET_LOW_THRESHOLD_PCT", "15")
    policy = FundingSettings().policy()
    assert policy.max_aid_intensity_pct["micro"] == 60
    assert (policy.de_minimis_cap_nok, policy.low_threshold_pct) == (4_000_000, 15)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FUNDING_MAX_AID_INTENSITY_PCT", '{"micro": 101}'),
        ("FUNDING_DE_MINIMIS_CAP_NOK", "0"),
        ("FUNDING_DE_MINIMIS_CAP_NOK", "3300000.5"),
        ("FUNDING_BUDGET_LOW_THRESHOLD_PCT", "-1"),
    ],
)
def test_a_policy_value_out_of_range_stops_the_service_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        FundingSettings()
