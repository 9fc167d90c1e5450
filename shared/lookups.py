"""Read-only look-ups over HTTP: the route table, bearer-token access, JSON answers and their OpenAPI document.

A service lists its look-ups as data (`Lookup`: a path under `/v1/`, its parameters, the model it
answers with and the query that reads it). `LookupRoutes` serves them on the service's HTTP port
beside health and metrics, each in a read-only transaction of the runtime pool, and describes
them at `/docs/openapi.json`. faststream's ASGI routes match exact paths only, so the look-ups,
whose paths carry ids, are put in front of them (`ServiceAsgi`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs
from uuid import UUID

from faststream.asgi import AsgiFastStream, AsgiResponse
from faststream.asgi.types import Receive, Scope, Send
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema

from shared.db import Connection, is_transient
from shared.runtime import Runtime

RowT = TypeVar("RowT")

OPENAPI_PATH = "/docs/openapi.json"
PREFIX = "/v1/"
_PARAMETER = re.compile(r"\{([a-z_]+)\}")


class LookupArgumentError(ValueError):
    """A look-up's arguments that no query can answer (an unreadable cursor, a period ending before it starts)."""


@dataclass(frozen=True)
class Param:
    """A parameter of a look-up: in the path when the path names it (`{name}`), otherwise in the query string."""

    name: str
    type: Any
    description: str
    required: bool = False
    adapter: TypeAdapter[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "adapter", TypeAdapter(self.type))  # built once, not per request

    def read(self, raw: str) -> Any:
        return self.adapter.validate_strings(raw)

    def schema(self) -> dict[str, Any]:
        return self.adapter.json_schema()


Read = Callable[[Connection, Mapping[str, Any]], Awaitable[BaseModel | None]]


@dataclass(frozen=True)
class Lookup:
    """One look-up: `read(conn, arguments)` answers with `answer`, or None for "no such thing" (404)."""

    path: str
    summary: str
    answer: type[BaseModel]
    read: Read
    params: Sequence[Param] = ()
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.path.startswith(PREFIX):
            msg = f"a look-up's path starts with {PREFIX}: {self.path}"
            raise ValueError(msg)
        named = set(_PARAMETER.findall(self.path))
        if not named <= {param.name for param in self.params}:
            msg = f"{self.path} names a parameter it does not declare"
            raise ValueError(msg)
        parts = _PARAMETER.split(self.path)  # literal, name, literal, ...
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    def in_path(self, param: Param) -> bool:
        return f"{{{param.name}}}" in self.path

    def arguments(self, path: re.Match[str], query: Mapping[str, list[str]]) -> dict[str, Any]:
        """The parameters read and typed; raises LookupArgumentError naming the first one that is wrong."""
        arguments: dict[str, Any] = {}
        for param in self.params:
            given = [path.group(param.name)] if self.in_path(param) else query.get(param.name, [])
            raw = given[-1] if given else ""
            if not raw:
                if param.required:
                    msg = f"{param.name} is required"
                    raise LookupArgumentError(msg)
                arguments[param.name] = None
                continue
            try:
                arguments[param.name] = param.read(raw)
            except ValidationError as error:
                msg = f"{param.name}: {error.errors()[0]['msg']}"
                raise LookupArgumentError(msg) from None
        return arguments


def keyset_cursor(at: datetime, row_id: UUID) -> str:
    """Where a page ended, for keyset pagination on (time, id): the last row's sort key, opaque to the caller."""
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), str(row_id)]).encode()).decode()


def read_keyset_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        at, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), UUID(row_id)
    except (binascii.Error, ValueError, TypeError) as error:
        msg = "cursor: not one this service gave"
        raise LookupArgumentError(msg) from error


@dataclass(frozen=True)
class Keyset:
    """One page of a listing in (time, id) order: how many rows, and after which row (the cursor's)."""

    limit: int
    after: tuple[datetime, UUID] | None

    @classmethod
    def of(cls, arguments: Mapping[str, Any], *, default_limit: int) -> Keyset:
        """From a look-up's `limit` and `cursor` arguments."""
        cursor = arguments["cursor"]
        return cls(arguments["limit"] or default_limit, read_keyset_cursor(cursor) if cursor else None)

    @property
    def after_at(self) -> datetime | None:
        return self.after[0] if self.after else None

    @property
    def after_id(self) -> UUID | None:
        return self.after[1] if self.after else None

    @property
    def rows_to_fetch(self) -> int:
        """One row more than the page: whether a next page exists, without counting."""
        return self.limit + 1

    def cut(self, rows: Sequence[RowT], key: Callable[[RowT], tuple[datetime, UUID]]) -> tuple[list[RowT], str | None]:
        """The page's rows, and the cursor to the next page (None on the last)."""
        items = list(rows[: self.limit])
        return items, keyset_cursor(*key(items[-1])) if len(rows) > self.limit else None


def token_hash(token: str) -> str:
    """What a service is configured with for a token: its SHA-256, in hex (`printf %s TOKEN | sha256sum`)."""
    return hashlib.sha256(token.encode()).hexdigest()


def authorised(header: str | None, hashes: Sequence[str]) -> bool:
    """True when the Authorization header carries a bearer token whose hash is one of the configured ones."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    given = token_hash(token.strip()).encode()
    # Every configured hash is compared, each in constant time: neither the match nor its position shows.
    matches = [hmac.compare_digest(given, known.lower().encode()) for known in hashes]
    return any(matches)


class LookupRoutes:
    """The ASGI app of a service's look-ups and their OpenAPI document."""

    def __init__(self, runtime: Runtime, lookups: Sequence[Lookup], *, title: str, version: str) -> None:
        self._runtime = runtime
        self._lookups = tuple(lookups)
        self._hashes = tuple(runtime.settings.lookup_token_sha256)
        self._openapi = json.dumps(openapi(self._lookups, title=title, version=version)).encode()

    def serves(self, path: str) -> bool:
        return path == OPENAPI_PATH or path.startswith(PREFIX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._answer(scope)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope) -> AsgiResponse:
        if scope["method"] != "GET":
            return _json(405, {"error": "method_not_allowed", "detail": "look-ups answer GET only"}, allow="GET")
        path: str = scope["path"]
        if path == OPENAPI_PATH:
            return AsgiResponse(self._openapi, status_code=200, headers={"content-type": "application/json"})
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        if not authorised(headers.get("authorization"), self._hashes):
            return _json(
                401,
                {
                    "error": "unauthorized",
                    "detail": "a look-up needs a valid bearer token: Authorization: Bearer <token>",
                },
                www_authenticate='Bearer realm="lookups"',
            )
        for lookup in self._lookups:
            match = lookup.pattern.match(path)
            if match is not None:
                return await self._run(lookup, match, parse_qs(scope["query_string"].decode("utf-8", "replace")))
        return _json(404, {"error": "not_found", "detail": f"no look-up at {path}"})

    async def _run(self, lookup: Lookup, match: re.Match[str], query: Mapping[str, list[str]]) -> AsgiResponse:
        unavailable = {"error": "unavailable", "detail": "the database cannot be reached now; try again"}
        try:
            arguments = lookup.arguments(match, query)
            if self._runtime.pool_or_none is None:  # still starting: no pool yet
                return _json(503, unavailable)
            async with self._runtime.pool.acquire() as conn, conn.transaction(readonly=True):
                answer = await lookup.read(conn, arguments)
        except LookupArgumentError as error:
            return _json(400, {"error": "bad_request", "detail": str(error)})
        except Exception as error:
            if not is_transient(error):
                raise
            return _json(503, unavailable)
        if answer is None:
            return _json(404, {"error": "not_found", "detail": "nothing found with these arguments"})
        return AsgiResponse(
            answer.model_dump_json().encode(), status_code=200, headers={"content-type": "application/json"}
        )


class ServiceAsgi(AsgiFastStream):
    """faststream's ASGI app (exact paths: health, metrics, AsyncAPI) with the service's look-ups in front."""

    lookups: LookupRoutes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.lookups is not None and self.lookups.serves(scope["path"]):
            await self.lookups(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def openapi(lookups: Sequence[Lookup], *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the look-ups, their answers' schemas from the models themselves."""
    models = sorted({lookup.answer for lookup in lookups}, key=lambda model: model.__name__)
    refs, schemas = models_json_schema(
        [(model, "serialization") for model in models], ref_template="#/components/schemas/{model}"
    )
    error = {"$ref": "#/components/schemas/Error"}
    paths: dict[str, Any] = {}
    for lookup in lookups:
        parameters = [
            {
                "name": param.name,
                "in": "path" if lookup.in_path(param) else "query",
                "required": lookup.in_path(param) or param.required,
                "description": param.description,
                "schema": param.schema(),
            }
            for param in lookup.params
        ]
        paths[lookup.path] = {
            "get": {
                "summary": lookup.summary,
                "operationId": _operation_id(lookup.path),
                "parameters": parameters,
                "responses": {
                    "200": _content("the answer", refs[(lookup.answer, "serialization")]),
                    "400": _content("arguments that cannot be read", error),
                    "401": _content("no bearer token, or one not configured", error),
                    "404": _content("nothing found", error),
                    "503": _content("the database cannot be reached now", error),
                },
            }
        }
    components = {
        **schemas.get("$defs", {}),
        "Error": {
            "type": "object",
            "required": ["error", "detail"],
            "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{title} look-ups", "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _content(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": dict(schema)}}}


def _operation_id(path: str) -> str:
    return "_".join(part.strip("{}") for part in path.removeprefix(PREFIX).split("/"))


def _json(status: int, body: dict[str, str], **headers: str) -> AsgiResponse:
    extra = {name.replace("_", "-"): value for name, value in headers.items()}
    return AsgiResponse(
        json.dumps(body).encode(), status_code=status, headers={"content-type": "application/json", **extra}
    )
