"""What a deployment of the applications service configures."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    """The programme's clusters: reference data, so a new cluster needs no release."""

    clusters: frozenset[str]
