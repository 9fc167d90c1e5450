"""The workshops service's use cases: load, decide, save, record; one module per subject, one `UseCases` to route to."""

from __future__ import annotations

from workshops.domain.policy import Policy
from workshops.usecases.invitations import Invitations
from workshops.usecases.registrations import Registrations
from workshops.usecases.reminders import Reminders
from workshops.usecases.schedule import Schedule


class UseCases(Schedule, Registrations, Reminders, Invitations):
    """Every use case of the service, with the policy a deployment configures."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
