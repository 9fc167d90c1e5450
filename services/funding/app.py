"""Wiring of the funding service: `create_app()` for faststream's --factory, and for `python -m funding`."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from funding import SERVICE
from funding.handlers import jobs, subscriptions
from funding.queries import LOOKUPS
from funding.settings import FundingSettings
from funding.usecases import UseCases
from shared.service import ServiceSpec, build_app


def create_app(settings: FundingSettings | None = None) -> AsgiFastStream:
    settings = settings or FundingSettings()
    cases = UseCases(settings.policy())
    return build_app(ServiceSpec(SERVICE, settings, subscriptions(cases), jobs(cases, settings), LOOKUPS))
