"""Which failures are the record's (dead-lettered), which pass (retried without limit), which are bugs."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from pydantic import BaseModel, ValidationError

from shared.retry import is_record_fault, is_transient


class _Model(BaseModel):
    n: int


def _validation_error() -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        _Model.model_validate({"n": "x"})
    return caught.value


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
        asyncpg.InsufficientPrivilegeError("permission denied for table items"),
        asyncpg.InvalidPasswordError("password authentication failed"),
        asyncpg.UndefinedTableError("relation does not exist"),
        asyncpg.SerializationError("could not serialize access"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("connection is closed"),
        ConnectionRefusedError(),
        TimeoutError(),
        KafkaConnectionError(),
        TopicAuthorizationFailedError(),
    ],
    ids=type,
)
def test_an_outage_passes(error: BaseException) -> None:
    assert is_transient(error)
    assert not is_record_fault(error)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.NumericValueOutOfRangeError("bigint out of range"),
        asyncpg.CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00'),
        asyncpg.DataError("invalid input for query argument $1"),
        asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
        asyncpg.CheckViolationError("new row violates check constraint"),
        asyncpg.ProgramLimitExceededError("index row size 8016 exceeds btree version 4 maximum 2704"),
        OverflowError("date value out of range"),
        _validation_error(),
    ],
    ids=type,
)
def test_a_fault_of_the_record_is_dead_lettered_not_retried(error: BaseException) -> None:
    assert is_record_fault(error)
    assert not is_transient(error)


@pytest.mark.parametrize("error", [RuntimeError("bug"), KeyError("x"), TypeError("x"), AttributeError("x")], ids=type)
def test_a_bug_is_neither(error: BaseException) -> None:
    assert not is_transient(error)
    assert not is_record_fault(error)
