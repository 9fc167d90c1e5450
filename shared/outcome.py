"""What a domain decision gives: the state after it, the events and notices it causes in order, or its refusal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from pydantic import BaseModel

from shared.contract.base import Event, Reason, Template

StateT = TypeVar("StateT")


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification the decision asks for: its template, what it is about, and to whom.

    ``fact`` keeps two facts of one cause apart in the notification's id; ``email`` is the
    recipient when the template names no staff role.
    """

    template: Template
    about: str
    params: Mapping[str, Any]
    fact: str = ""
    email: str | None = None

    def __post_init__(self) -> None:
        if set(self.params) != set(self.template.params):
            msg = f"{self.template.name} carries {sorted(self.template.params)}, not {sorted(self.params)}"
            raise ValueError(msg)
        if (self.email is None) == (self.template.role is None):
            msg = f"{self.template.name} goes to an e-mail or to its staff role, exactly one"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Outcome(Generic[StateT]):
    """The state after the decision (None when nothing changed), what it records in that order, or its refusal.

    A refusal records no events: the command's one answer is its `CommandRejected`; it may still
    ask for notices (a case handler told why the money was not there). ``basis`` is the figures
    the refusing rules used, a contract model the refusal carries as its ``basis``.
    """

    state: StateT | None = None
    messages: tuple[Event | Notice, ...] = ()
    reasons: tuple[Reason, ...] = ()
    basis: BaseModel | None = None

    def __post_init__(self) -> None:
        if self.reasons and self.events:
            msg = "a refused command causes no events"
            raise ValueError(msg)
        if self.basis is not None and not self.reasons:
            msg = "only a refusal carries a basis; an event carries its own"
            raise ValueError(msg)

    @property
    def refused(self) -> bool:
        return bool(self.reasons)

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(m for m in self.messages if isinstance(m, Event))

    @property
    def notices(self) -> tuple[Notice, ...]:
        return tuple(m for m in self.messages if isinstance(m, Notice))

    def then(self, after: Outcome[StateT]) -> Outcome[StateT]:
        """This outcome followed by another decided on its state: the later state, both messages in order."""
        state = after.state if after.state is not None else self.state
        basis = after.basis if after.basis is not None else self.basis
        return Outcome(state, (*self.messages, *after.messages), (*self.reasons, *after.reasons), basis)


NOTHING: Final[Outcome[Any]] = Outcome()


def refusal(*reasons: Reason, notices: tuple[Notice, ...] = (), basis: BaseModel | None = None) -> Outcome[Any]:
    """A refused command: every reason found, the notices its refusal asks for, and the figures its rules used."""
    return Outcome(messages=notices, reasons=reasons, basis=basis)
