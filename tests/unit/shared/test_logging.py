"""Every line a process writes is one shape: ours and the libraries' alike, JSON off a terminal, console on one."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# A process that logs as a service would: its own lines, the libraries' standard-library lines,
# and two exceptions whose frames hold an e-mail in a local variable.
_PROGRAM = """
import logging, sys
from shared.logging import configure_logging, get_logger

configure_logging("funding", log_format=sys.argv[1])
log = get_logger("funding.test")
log.info("ours", ce_id="c-1")
logging.getLogger("aiokafka").warning("Unable connect to %s", "node 1")
logging.getLogger("uvicorn.error").error("port in use")
logging.getLogger("asyncpg.pool").info("below the libraries' level: not shown")
def fail():
    email = "kari.nordmann@example.org"
    raise ValueError("broken")
try:
    fail()
except ValueError:
    logging.getLogger("faststream").exception("library saw it")
    log.exception("we saw it")
"""


def _run(log_format: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, log_format],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    return done.stderr.splitlines()


def test_every_line_is_json_with_service_level_and_event() -> None:
    lines = [json.loads(line) for line in _run("json")]
    assert [line["event"] for line in lines] == [
        "ours",
        "Unable connect to node 1",
        "port in use",
        "library saw it",
        "we saw it",
    ]
    for line in lines:
        assert line["service"] == "funding"
        assert line["level"] in {"info", "warning", "error"}
        assert line["timestamp"]
    assert [line.get("logger") for line in lines[1:4]] == ["aiokafka", "uvicorn.error", "faststream"]
    assert lines[0]["ce_id"] == "c-1"


def test_a_traceback_is_a_structured_field_without_local_variables() -> None:
    raw = _run("json")
    for line in (json.loads(raw[3]), json.loads(raw[4])):
        (exception,) = line["exception"]
        assert exception["exc_type"] == "ValueError"
        assert exception["exc_value"] == "broken"
        assert [frame["name"] for frame in exception["frames"]][-1] == "fail"
    assert not any("example.org" in line for line in raw), "a frame's local variable reached the log"


def test_a_terminal_gets_readable_lines() -> None:
    main, child = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROGRAM, "auto"],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=child,
            timeout=60,
            check=False,
        )
        os.close(child)
        child = -1
        output = b""
        while chunk := _read(main):
            output += chunk
    finally:
        if child != -1:
            os.close(child)
        os.close(main)
    assert done.returncode == 0
    text = output.decode(errors="replace")
    assert "Unable connect to node 1" in text
    assert "Traceback" in text
    assert "kari.nordmann" not in text
    for line in text.splitlines():
        assert not line.lstrip().startswith("{"), f"JSON on a terminal: {line}"


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal is closed once the child's output is all read
        return b""
