"""Wiring of the funding service: `create_app()` for faststream's --factory, and for `python -m funding`."""

from __future__ import annotations

from pathlib import Path

from faststream.asgi import AsgiFastStream

from funding.handlers import subscriptions
from funding.settings import FundingSettings
from shared.contract.base import NotificationRequested
from shared.contract.funding import PUBLISHED
from shared.service import ServiceSpec, build_app

SERVICE = "funding"
VERSION = "0.1.0"


def create_app(settings: FundingSettings | None = None) -> AsgiFastStream:
    settings = settings or FundingSettings()
    return build_app(
        ServiceSpec(
            name=SERVICE,
            version=VERSION,
            description="funding service of the programme Clusters as a driver of restructuring",
            settings=settings,
            migrations=Path(__file__).parent / "migrations",
            subscriptions=subscriptions(settings.policy()),
            publishes=(*PUBLISHED, NotificationRequested),
        )
    )
