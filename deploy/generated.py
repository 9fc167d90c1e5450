"""The command line every generator of a committed file shares: write the file, or show how it is stale."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(target: Path, render: Callable[[], str], description: str | None) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="show the difference and exit 1 if the file is stale")
    args = parser.parse_args()
    wanted = render()
    name = target.relative_to(ROOT)
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        sys.stderr.writelines(
            difflib.unified_diff(current.splitlines(True), wanted.splitlines(True), "committed", "generated")
        )
        raise SystemExit(0 if current == wanted else f"{name} is stale: make generated")
    target.write_text(wanted, encoding="utf-8")
    print(f"written: {name}")
