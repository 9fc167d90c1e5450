"""Wiring of the workshops service: `create_app()` for faststream's --factory, and for `python -m workshops`."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from shared.service import ServiceSpec, build_app
from workshops import SERVICE
from workshops.handlers import jobs, subscriptions
from workshops.queries import LOOKUPS
from workshops.settings import WorkshopsSettings
from workshops.usecases import UseCases


def create_app(settings: WorkshopsSettings | None = None) -> AsgiFastStream:
    settings = settings or WorkshopsSettings()
    cases = UseCases(settings.policy())
    return build_app(ServiceSpec(SERVICE, settings, subscriptions(cases), jobs(cases, settings), LOOKUPS))
