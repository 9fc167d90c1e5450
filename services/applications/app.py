"""Wiring of the applications service: `create_app()` for faststream's --factory, and for `python -m applications`."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from applications import SERVICE
from applications.handlers import jobs, subscriptions
from applications.queries import LOOKUPS
from applications.settings import ApplicationsSettings
from applications.usecases import UseCases
from shared.service import ServiceSpec, build_app


def create_app(settings: ApplicationsSettings | None = None) -> AsgiFastStream:
    settings = settings or ApplicationsSettings()
    cases = UseCases(settings.policy())
    return build_app(ServiceSpec(SERVICE, settings, subscriptions(cases), jobs(cases, settings), LOOKUPS))
