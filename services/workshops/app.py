"""Wiring of the workshops service: `create_app()` for faststream's --factory, and for `python -m workshops`."""

from __future__ import annotations

from pathlib import Path

from faststream.asgi import AsgiFastStream

from shared.contract.base import NotificationRequested
from shared.contract.workshops import PUBLISHED
from shared.service import ServiceSpec, build_app
from workshops import reminders
from workshops.handlers import subscriptions
from workshops.settings import WorkshopsSettings

SERVICE = "workshops"
VERSION = "0.1.0"


def create_app(settings: WorkshopsSettings | None = None) -> AsgiFastStream:
    settings = settings or WorkshopsSettings()
    return build_app(
        ServiceSpec(
            name=SERVICE,
            version=VERSION,
            description="workshops service of the programme Clusters as a driver of restructuring",
            settings=settings,
            migrations=Path(__file__).parent / "migrations",
            subscriptions=subscriptions(settings.policy()),
            publishes=(*PUBLISHED, NotificationRequested),
            background=[
                reminders.scheduler(
                    poll_interval_s=settings.reminder_poll_interval_s, batch_size=settings.reminder_batch_size
                )
            ],
        )
    )
