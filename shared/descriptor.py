"""What a service is, for its wiring and for the operator CLI: its name, its migrations and the events it publishes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.contract.base import Event


@dataclass(frozen=True)
class Descriptor:
    """A service as registered: its package says it once (``<service>.SERVICE``), the wiring and the CLI read it."""

    name: str
    migrations: Path
    publishes: Sequence[type[Event]]
    version: str = "0.1.0"
    description: str = ""

    @property
    def summary(self) -> str:
        return self.description or f"{self.name} service of the programme Clusters as a driver of restructuring"
