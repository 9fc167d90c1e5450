"""structlog set-up: JSON lines off a terminal, readable console on one; ids in fields, no personal data.

Our own lines go straight through structlog; the libraries' standard-library lines (aiokafka,
asyncpg, uvicorn, faststream) go through structlog's ProcessorFormatter on the root handler, so
every line on stderr has the same shape: ``service``, ``level``, ``event``, ``timestamp``, and
an exception as a structured ``exception`` field rather than a multi-line traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger


class _AddService:
    """Every line names its service, also the libraries' lines from threads that never saw our context."""

    def __init__(self, service: str) -> None:
        self._service = service

    def __call__(self, _: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", self._service)
        return event_dict


def configure_logging(
    service: str, *, level: str = "INFO", log_format: Literal["auto", "json", "console"] = "auto"
) -> None:
    use_console = log_format == "console" or (log_format == "auto" and sys.stderr.isatty())
    common: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _AddService(service),
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # A traceback as text on a terminal, as a structured field in JSON; never with the frames' local
    # variables, which may hold a participant's name or e-mail.
    finish: list[Processor] = (
        [structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)]
        if use_console
        else [
            structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(),
        ]
    )
    structlog.configure(
        processors=[*common, structlog.processors.StackInfoRenderer(), *finish],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    _route_standard_library_logging(common, finish)


def _route_standard_library_logging(common: list[Processor], finish: list[Processor]) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*common, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finish],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    # Replaces whatever was there (basicConfig's handler, a previous configuration): one handler, one shape.
    for existing in root.handlers[:]:
        root.removeHandler(existing)
    root.addHandler(handler)
    # The libraries at warning and up: their info lines repeat what our own lines say with ids.
    root.setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
