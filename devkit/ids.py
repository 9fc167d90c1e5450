"""Fresh identifiers for tests and benchmarks: organisation numbers, e-mail addresses."""

from __future__ import annotations

import random
import uuid

from shared.contract.base import mod11_check_digit


def organisation_number(rng: random.Random | None = None) -> str:
    """A random organisation number with a valid mod-11 check digit (starting 8 or 9, as real ones do)."""
    draw = rng or random.Random()  # noqa: S311 - test data, not a secret
    while True:
        body = str(draw.randint(8, 9)) + "".join(str(draw.randint(0, 9)) for _ in range(7))
        check = mod11_check_digit(body)
        if check is not None:
            return body + str(check)


def email(label: str = "p") -> str:
    """A fresh e-mail address, so that no two tests share a participant or a facilitator."""
    return f"{label}-{uuid.uuid4().hex[:12]}@example.no"
