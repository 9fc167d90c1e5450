"""Headless Chromium (Debian's `chromium`) reading a page: what a browser made of the report's charts."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

TIMEOUT_S = 120.0


class _Marks(HTMLParser):
    """Counts the elements of class `mark` inside each `<figure class="chart" id=...>` of the DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: Counter[str] = Counter()
        self._figure: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        classes = (given.get("class") or "").split()
        if tag == "figure" and "chart" in classes:
            self._figure = given.get("id") or ""
            self.marks[self._figure] += 0  # a chart without marks is still counted, as 0
        elif "mark" in classes and self._figure is not None:
            self.marks[self._figure] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._figure = None


def dump_dom(page: Path) -> str:
    """The DOM Chromium built from the page, serialised (`--dump-dom`), offline and in a throwaway profile."""
    browser = shutil.which("chromium")
    assert browser is not None, "Debian's chromium is needed (deploy/bootstrap.sh --for test installs it)"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",  # as root in CI
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=True,
        )
    return done.stdout


def chart_marks(page: Path) -> dict[str, int]:
    """For each chart of the page as Chromium read it, how many marks (bars, points) it drew."""
    parser = _Marks()
    parser.feed(dump_dom(page))
    return dict(parser.marks)
