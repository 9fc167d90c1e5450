"""What a deployment of the funding service configures; the defaults are the contract's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

DEFAULT_MAX_AID_INTENSITY_PCT: Final[Mapping[str, int]] = {"micro": 50, "small": 50, "medium": 40, "large": 25}
DEFAULT_DE_MINIMIS_CAP_NOK: Final = 3_300_000
DEFAULT_LOW_THRESHOLD_PCT: Final = 10
DEFAULT_ACCEPTANCE_PERIOD: Final = timedelta(days=30)
DEFAULT_INTERIM_CAP_PCT: Final = 75


@dataclass(frozen=True, slots=True)
class Policy:
    """Aid intensities per size class, the de minimis cap, the share of a budget below which it is low, how
    long a grant waits for acceptance, and the share of a grant interim payments may pay together."""

    max_aid_intensity_pct: Mapping[str, int]
    de_minimis_cap_nok: int = DEFAULT_DE_MINIMIS_CAP_NOK
    low_threshold_pct: int = DEFAULT_LOW_THRESHOLD_PCT
    acceptance_period: timedelta = DEFAULT_ACCEPTANCE_PERIOD
    interim_cap_pct: int = DEFAULT_INTERIM_CAP_PCT

    @classmethod
    def default(cls) -> Policy:
        return cls(max_aid_intensity_pct=dict(DEFAULT_MAX_AID_INTENSITY_PCT))
