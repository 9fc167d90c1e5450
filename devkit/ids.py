"""Fresh ids for tests and benchmarks."""

from __future__ import annotations

import random

from shared.contract.base import mod11_check_digit


def organisation_number(rng: random.Random | None = None) -> str:
    """A random organisation number with a valid mod-11 check digit (starting 8 or 9, as real ones do)."""
    draw = rng or random.Random()  # noqa: S311 - test data, not a secret
    while True:
        body = str(draw.randint(8, 9)) + "".join(str(draw.randint(0, 9)) for _ in range(7))
        check = mod11_check_digit(body)
        if check is not None:
            return body + str(check)
