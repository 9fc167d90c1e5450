"""Wiring of the applications service: `create_app()` for faststream's --factory, and for `python -m applications`."""

from __future__ import annotations

from pathlib import Path

from faststream.asgi import AsgiFastStream

from applications.handlers import subscriptions
from applications.settings import ApplicationsSettings
from shared.contract.applications import PUBLISHED
from shared.contract.base import NotificationRequested
from shared.service import ServiceSpec, build_app

SERVICE = "applications"
VERSION = "0.1.0"


def create_app(settings: ApplicationsSettings | None = None) -> AsgiFastStream:
    settings = settings or ApplicationsSettings()
    return build_app(
        ServiceSpec(
            name=SERVICE,
            version=VERSION,
            description="applications service of the programme Clusters as a driver of restructuring",
            settings=settings,
            migrations=Path(__file__).parent / "migrations",
            subscriptions=subscriptions(settings.clusters),
            publishes=(*PUBLISHED, NotificationRequested),
        )
    )
