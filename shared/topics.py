"""The contract's topic names, in one place.

``PROGRAMME_TOPIC_PREFIX`` (read once, at import) goes in front of every name, and of the
default consumer group ids: a measurement run (`make bench`, `make chaos`) sets it so that its
records never reach the topics or the groups of the system a user runs on the same broker.
Empty by default: the names are the contract's.
"""

from __future__ import annotations

import os
from typing import Final

PREFIX_ENV: Final = "PROGRAMME_TOPIC_PREFIX"
PREFIX: Final = os.environ.get(PREFIX_ENV, "")

APPLICATIONS_COMMANDS: Final = f"{PREFIX}applications.commands.v1"
APPLICATIONS_EVENTS: Final = f"{PREFIX}applications.events.v1"
WORKSHOPS_COMMANDS: Final = f"{PREFIX}workshops.commands.v1"
WORKSHOPS_EVENTS: Final = f"{PREFIX}workshops.events.v1"
FUNDING_COMMANDS: Final = f"{PREFIX}funding.commands.v1"
FUNDING_EVENTS: Final = f"{PREFIX}funding.events.v1"
NOTIFICATIONS: Final = f"{PREFIX}programme.notifications.v1"

SERVICES: Final = ("applications", "workshops", "funding")


def commands_topic(service: str) -> str:
    return f"{PREFIX}{service}.commands.v1"


def events_topic(service: str) -> str:
    return f"{PREFIX}{service}.events.v1"


def dlq_topic(service: str) -> str:
    return f"{PREFIX}{service}.dlq.v1"


def contract_topics() -> tuple[str, ...]:
    """Every topic the contract names, DLQs included: what an operator creates."""
    per_service = [
        topic for service in SERVICES for topic in (commands_topic(service), events_topic(service), dlq_topic(service))
    ]
    return (*per_service, NOTIFICATIONS)
