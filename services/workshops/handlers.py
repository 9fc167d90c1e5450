"""What the workshops service reads: one route per command or event type, each calling its use case."""

from __future__ import annotations

from functools import partial
from typing import Any

from shared.consumer import Route, Subscription, UseCase
from shared.contract import workshops as contract
from shared.contract.base import Message
from shared.topics import APPLICATIONS_EVENTS, WORKSHOPS_COMMANDS
from workshops import invitations, participants, usecases
from workshops.domain import Policy
from workshops.upstream import ApplicationSubmitted


def subscriptions(policy: Policy) -> list[Subscription]:
    def route(model: type[Message], use_case: Any) -> tuple[str, Route]:
        handler: UseCase = partial(use_case, policy=policy)
        return model.ce_type, Route(model, handler)

    return [
        Subscription(
            topic=WORKSHOPS_COMMANDS,
            routes=dict(
                [
                    route(contract.ScheduleWorkshop, usecases.schedule_workshop),
                    route(contract.RescheduleWorkshop, usecases.reschedule_workshop),
                    route(contract.CancelWorkshop, usecases.cancel_workshop),
                    route(contract.ChangeWorkshopCapacity, usecases.change_capacity),
                    route(contract.RegisterParticipant, participants.register_participant),
                    route(contract.CancelRegistration, participants.cancel_registration),
                    route(contract.RecordAttendance, participants.record_attendance),
                    route(contract.EraseParticipantData, participants.erase_participant_data),
                ]
            ),
            commands=True,
            description="workshops' commands: scheduling, registrations, attendance, erasure",
        ),
        Subscription(
            topic=APPLICATIONS_EVENTS,
            routes=dict([route(ApplicationSubmitted, invitations.invite_to_clarification)]),
            commands=False,
            description="submitted applications: invite the applicant to a clarification workshop",
        ),
    ]
