"""The contract's topic names, in one place."""

from __future__ import annotations

from typing import Final

APPLICATIONS_COMMANDS: Final = "applications.commands.v1"
APPLICATIONS_EVENTS: Final = "applications.events.v1"
WORKSHOPS_COMMANDS: Final = "workshops.commands.v1"
WORKSHOPS_EVENTS: Final = "workshops.events.v1"
FUNDING_COMMANDS: Final = "funding.commands.v1"
FUNDING_EVENTS: Final = "funding.events.v1"
NOTIFICATIONS: Final = "programme.notifications.v1"

SERVICES: Final = ("applications", "workshops", "funding")


def commands_topic(service: str) -> str:
    return f"{service}.commands.v1"


def events_topic(service: str) -> str:
    return f"{service}.events.v1"


def dlq_topic(service: str) -> str:
    return f"{service}.dlq.v1"


def contract_topics() -> tuple[str, ...]:
    """Every topic the contract names, DLQs included: what an operator creates."""
    per_service = [
        topic for service in SERVICES for topic in (commands_topic(service), events_topic(service), dlq_topic(service))
    ]
    return (*per_service, NOTIFICATIONS)
