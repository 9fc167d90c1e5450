"""What the workshops service reacts to: one route per command or event type, one job per time-driven use case."""

from __future__ import annotations

from typing import Any

from shared.consumer import Route, Subscription, by_type
from shared.contract.applications import ApplicationSubmitted
from shared.contract.workshops import (
    CancelRegistration,
    CancelWorkshop,
    ChangeWorkshopCapacity,
    EraseParticipantData,
    RecordAttendance,
    RegisterParticipant,
    RescheduleWorkshop,
    ScheduleWorkshop,
)
from shared.scheduler import Job
from shared.topics import APPLICATIONS_EVENTS, WORKSHOPS_COMMANDS
from workshops.domain.reminders import DueReminder
from workshops.settings import WorkshopsSettings
from workshops.usecases import UseCases


def subscriptions(cases: UseCases) -> list[Subscription]:
    return [
        Subscription(
            topic=WORKSHOPS_COMMANDS,
            routes=by_type(
                Route(ScheduleWorkshop, cases.schedule),
                Route(RescheduleWorkshop, cases.reschedule),
                Route(CancelWorkshop, cases.cancel_workshop),
                Route(ChangeWorkshopCapacity, cases.change_capacity),
                Route(RegisterParticipant, cases.register),
                Route(CancelRegistration, cases.cancel_registration),
                Route(RecordAttendance, cases.record_attendance),
                Route(EraseParticipantData, cases.erase),
            ),
            commands=True,
            description="workshops' commands: scheduling, registrations, attendance, erasure",
        ),
        Subscription(
            topic=APPLICATIONS_EVENTS,
            routes=by_type(Route(ApplicationSubmitted, cases.invite)),
            commands=False,
            description="submitted applications: invite the applicant to a clarification workshop",
        ),
    ]


def jobs(cases: UseCases, settings: WorkshopsSettings) -> list[Job[Any]]:
    reminders: Job[DueReminder] = Job(
        name="reminders",
        due=cases.due_reminders,
        fact=lambda reminder: reminder.fact,
        settle=cases.send_reminder,
        poll_interval_s=settings.reminder_poll_interval_s,
        batch_size=settings.reminder_batch_size,
    )
    return [reminders]
