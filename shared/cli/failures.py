"""What the CLI says when an expected failure stops a command: one line, what failed and what to do, an exit code.

The one place that knows the failures an operator meets (a broker or database down or refusing
us, an unknown topic, a file that is not there); anything else is a fault of ours and keeps its
traceback. The libraries' own log lines are held back (their tracebacks and retries would bury
the line that matters) and the last one is quoted as the reason.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import asyncpg
from aiokafka import errors as kafka_errors

# Exit codes: 1 is a command's own "no" (a check that found differences, no answer in time).
BAD_INPUT = 2
UNREACHABLE = 3

_KAFKA_SETTINGS = "--bootstrap-servers or PROGRAMME_KAFKA_BOOTSTRAP_SERVERS"
_DB_SETTINGS = "--admin-dsn or PROGRAMME_ADMIN_DSN (`db migrate`: <SERVICE>_MIGRATION_DSN)"
_LIBRARIES = ("aiokafka", "asyncpg")

_KAFKA_REFUSALS = (
    kafka_errors.AuthenticationFailedError,
    kafka_errors.AuthenticationMethodNotSupported,
    kafka_errors.SaslAuthenticationFailed,
    kafka_errors.UnsupportedSaslMechanismError,
    kafka_errors.IllegalSaslStateError,
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.GroupAuthorizationFailedError,
    kafka_errors.ClusterAuthorizationFailedError,
)
_KAFKA_UNREACHABLE = (
    kafka_errors.KafkaConnectionError,
    kafka_errors.NoBrokersAvailable,
    kafka_errors.KafkaTimeoutError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.NodeNotReadyError,
)
_DB_REFUSALS = (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)
_DB_UNAVAILABLE = (asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)


@dataclass(frozen=True)
class Failure:
    message: str
    exit_code: int


class LibraryLines(logging.Handler):
    """Keeps the libraries' last warning or error instead of printing it: the reason behind a failure.

    Once `echo` is on (a command that follows a topic for long), each is also printed as one line:
    a broker lost after the start is then seen rather than silently retried.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last: str | None = None
        self.echo = False

    def emit(self, record: logging.LogRecord) -> None:
        self.last = record.getMessage()
        if self.echo:
            print(f"programme: {record.name}: {self.last}", file=sys.stderr, flush=True)


def echo_library_lines() -> None:
    """From now on, print the libraries' warnings as they come (see LibraryLines)."""
    for handler in logging.getLogger(_LIBRARIES[0]).handlers:
        if isinstance(handler, LibraryLines):
            handler.echo = True


@contextmanager
def library_lines() -> Iterator[LibraryLines]:
    held = LibraryLines()
    loggers = [logging.getLogger(name) for name in _LIBRARIES]
    before = [(logger.propagate, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(held)
        logger.propagate = False
        logger.setLevel(logging.WARNING)
    try:
        yield held
    finally:
        for logger, (propagate, level) in zip(loggers, before, strict=True):
            logger.removeHandler(held)
            logger.propagate = propagate
            logger.setLevel(level)


# Each rule: the exceptions, the line (a format string of `error`, `detail`: the held library line
# or else the error, and `kafka`: the broker asked), the exit code. The first match wins.
_RULES: tuple[tuple[tuple[type[BaseException], ...], str, int], ...] = (
    (
        _KAFKA_REFUSALS,
        (
            "Kafka at {kafka} refused us ({detail}): check PROGRAMME_KAFKA_SASL_USERNAME, _SASL_PASSWORD, "
            "_SASL_MECHANISM and this user's ACLs"
        ),
        UNREACHABLE,
    ),
    (
        (kafka_errors.UnknownTopicOrPartitionError,),
        "Kafka at {kafka} has no such topic ({detail}): `programme topics create` creates the contract's topics",
        BAD_INPUT,
    ),
    (
        # aiokafka ends a failed SASL or TLS handshake with the same "Unable to bootstrap" as a
        # broker that is down: the held line says which it was.
        _KAFKA_UNREACHABLE,
        "cannot reach Kafka at {kafka} ({detail}): start it (`make up`) or point " + _KAFKA_SETTINGS + " at a "
        "running broker; over SASL_SSL check PROGRAMME_KAFKA_SASL_USERNAME, _SASL_PASSWORD and _SSL_CAFILE",
        UNREACHABLE,
    ),
    (
        _DB_REFUSALS,
        "the database refused the login ({error}): check the user and password in " + _DB_SETTINGS,
        UNREACHABLE,
    ),
    (
        (asyncpg.InvalidCatalogNameError,),
        "{error}: check the database name in " + _DB_SETTINGS,
        UNREACHABLE,
    ),
    (
        (asyncpg.InsufficientPrivilegeError,),
        "the database said: {error}: use a role allowed to do this (" + _DB_SETTINGS + ")",
        UNREACHABLE,
    ),
    (_DB_UNAVAILABLE, "the database cannot take us now ({error}): try again shortly", UNREACHABLE),
    (
        (socket.gaierror,),
        "cannot resolve the database's host ({error}): check the host in " + _DB_SETTINGS,
        UNREACHABLE,
    ),
    (
        # aiokafka wraps its own connection errors, so a bare one comes from asyncpg.
        (ConnectionError,),
        "cannot reach the database ({error}): start it (`make up`) or check the host and port in " + _DB_SETTINGS,
        UNREACHABLE,
    ),
    (
        (TimeoutError,),
        "the database did not answer in time: is it up (`make up`), and the host and port in " + _DB_SETTINGS + "?",
        UNREACHABLE,
    ),
    (
        (FileNotFoundError, IsADirectoryError, PermissionError),
        "cannot read {error.filename}: {error.strerror}",
        BAD_INPUT,
    ),
    # Our own refusals of what was asked (a type not in the contract, no such topic, a bad DSN).
    ((ValueError, TypeError, LookupError), "{error}", BAD_INPUT),
)


def explain(error: BaseException, *, kafka: str, reason: str | None = None) -> Failure | None:
    """The operator's line for an expected failure, or None for one that is a fault of ours."""
    detail = reason or str(error) or type(error).__name__
    for kinds, line, exit_code in _RULES:
        if isinstance(error, kinds):
            return Failure(line.format(error=error, detail=detail, kafka=kafka), exit_code)
    return None
