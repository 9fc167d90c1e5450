"""A service's AsyncAPI 3.1 document, from the contract's models: what an integrator generates a client from.

Every channel the service reads and writes, every message with its real payload (the exported
JSON Schema, `$defs` moved under `components/schemas`), its CloudEvents headers as the message's
headers schema, `correlationId` at `$message.header#/ce_correlationid`, a command's refusal
codes, and an example. The service serves it (`/docs/asyncapi.json`, a page at `/docs/asyncapi`);
`programme contract export` writes it to `contract/asyncapi/<service>.json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from shared.contract import examples, schemas
from shared.contract.base import Command, CommandRejected, Message, NotificationRequested
from shared.contract.refusals import MALFORMED, REFUSAL_CODES, command_refusals
from shared.envelope import CONTENT_TYPE, SPECVERSION
from shared.topics import NOTIFICATIONS, dlq_topic, events_topic

ASYNCAPI_VERSION: Final = "3.1.0"
KAFKA_BINDING_VERSION: Final = "0.5.0"
# What the consumer writes into a dead letter's x-error-code (shared/consumer.py, shared/envelope.py).
DEAD_LETTER_CODES: Final = (
    "missing_header",
    "invalid_header",
    "unsupported_specversion",
    "unsupported_content_type",
    "invalid_key",
    "invalid_json",
    "unknown_type",
    "schema_violation",
    "processing_failed",
)


class _Subscription(Protocol):
    """What the document needs of a `shared.consumer.Subscription` (kept light: no Kafka import here)."""

    @property
    def topic(self) -> str: ...
    @property
    def routes(self) -> Mapping[str, Any]: ...
    @property
    def commands(self) -> bool: ...
    @property
    def description(self) -> str: ...


@dataclass(frozen=True)
class Reads:
    """One topic a service reads, and the types on it it acts on."""

    topic: str
    models: tuple[type[Message], ...]
    commands: bool
    description: str = ""

    @classmethod
    def of(cls, subscription: _Subscription) -> Reads:
        models = tuple(route.model for route in subscription.routes.values())
        return cls(subscription.topic, models, subscription.commands, subscription.description)


def document(
    service: str, *, version: str, summary: str, publishes: Sequence[type[Message]], reads: Iterable[Reads]
) -> dict[str, Any]:
    """The AsyncAPI 3.1 document of a service that reads `reads` and publishes `publishes`."""
    builder = _Builder(service)
    for read in reads:
        what = read.description or f"{service} reads {read.topic}"
        builder.channel(read.topic, "receive", [(m.ce_type, m) for m in read.models], what)
    events = [(m.ce_type, m) for m in publishes if not issubclass(m, NotificationRequested)]
    events.append((f"{service}.CommandRejected.v1", CommandRejected))
    builder.channel(events_topic(service), "send", events, f"the events {service} publishes and its answers")
    notifications = [(m.ce_type, m) for m in publishes if issubclass(m, NotificationRequested)]
    if notifications:
        builder.channel(NOTIFICATIONS, "send", notifications, "notification requests, for downstream senders")
    builder.dead_letters(dlq_topic(service), builder.read_types)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": f"urn:programme:asyncapi:{service}",
        "info": {
            "title": f"{service} service",
            "version": version,
            "description": f"{summary}. CloudEvents 1.0 over Kafka; see docs/integrating.md.",
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": builder.channels,
        "operations": builder.operations,
        "components": {
            "messages": builder.messages,
            "schemas": dict(sorted(builder.schemas.items())),
            "correlationIds": {
                "chain": {
                    "description": "one id through a whole chain: a command's own ce_id unless it names another",
                    "location": "$message.header#/ce_correlationid",
                }
            },
        },
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def html(title: str) -> str:
    """A page that renders the document with AsyncAPI's own viewer (loaded from its CDN)."""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="https://unpkg.com/@asyncapi/react-component@2/styles/default.min.css">
</head><body><div id="asyncapi"></div>
<script src="https://unpkg.com/@asyncapi/react-component@2/browser/standalone/index.js"></script>
<script>AsyncApiStandalone.render({{schema: {{url: "asyncapi.json"}}, config: {{show: {{sidebar: true}}}}}},
document.getElementById("asyncapi"));</script>
</body></html>
"""


_NAME: Final = re.compile(r"[^A-Za-z0-9_-]")


class _Builder:
    def __init__(self, service: str) -> None:
        self.service = service
        self.channels: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}
        self.messages: dict[str, Any] = {}
        self.schemas: dict[str, Any] = {}
        self.read_types: dict[str, tuple[type[Message], str]] = {}  # type, and the topic it is read from

    def channel(self, topic: str, action: str, types: Sequence[tuple[str, type[Message]]], what: str) -> None:
        channel_id = _NAME.sub("-", topic)
        refs = {}
        for ce_type, model in types:
            refs[ce_type] = {"$ref": f"#/components/messages/{self.message(ce_type, model)}"}
            if action == "receive":
                self.read_types[ce_type] = (model, topic)
        self.channels[channel_id] = {
            "address": topic,
            "title": topic,
            "description": what,
            "messages": refs,
            "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
        self.operations[f"{action}-{channel_id}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"{self.service} {'reads' if action == 'receive' else 'writes'} {topic}",
            "description": what,
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{ce_type}"} for ce_type in refs],
        }

    def dead_letters(self, topic: str, types: Mapping[str, tuple[type[Message], str]]) -> None:
        """The DLQ: a record that could not be read, unchanged, under the x-error-* headers saying why."""
        channel_id = _NAME.sub("-", topic)
        refs = {}
        for ce_type, (model, read_from) in types.items():
            name = f"dead-letter.{ce_type}"
            original = self.messages[self.message(ce_type, model)]
            self.messages[name] = {
                **{k: v for k, v in original.items() if k not in {"headers", "examples", "x-refusal-codes"}},
                "name": name,
                "title": f"{original['title']}, dead-lettered",
                "summary": f"a {ce_type} record {self.service} could not read, unchanged",
                "headers": _dead_letter_headers(original["headers"]),
                "examples": [_dead_letter_example(example, read_from) for example in original["examples"]],
            }
            refs[name] = {"$ref": f"#/components/messages/{name}"}
        what = (
            "records the service could not read, unchanged, with x-error-code and x-error-message saying why; "
            "a record of any other type or none lands here too, with its value as it came"
        )
        self.channels[channel_id] = {
            "address": topic,
            "title": topic,
            "description": what,
            "messages": refs,
            "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
        self.operations[f"send-{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"{self.service} dead-letters what it cannot read",
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"} for name in refs],
        }

    def message(self, ce_type: str, model: type[Message]) -> str:
        """The message's component (made once), named by its type."""
        if ce_type in self.messages:
            return ce_type
        schema = self.payload_schema(ce_type, model)
        payload = self.component(ce_type, schema)
        command = issubclass(model, Command)
        example = examples.example_of(schema)
        if issubclass(model, CommandRejected):
            example = _rejected_example(self.service)
        key = _key_of(model, example)
        name = ce_type.split(".")[1]
        doc = (model.__doc__ or name).strip()
        message: dict[str, Any] = {
            "name": ce_type,
            "title": name,
            "summary": doc.splitlines()[0],
            "description": doc,
            "contentType": CONTENT_TYPE,
            "headers": _headers(ce_type, command=command),
            "payload": payload,
            "correlationId": {"$ref": "#/components/correlationIds/chain"},
            "bindings": {"kafka": {"key": _key_schema(model), "bindingVersion": KAFKA_BINDING_VERSION}},
            "examples": [
                {
                    "name": f"{name}-example",
                    "summary": f"a {name} as it travels",
                    "headers": _example_headers(ce_type, key, command=command),
                    "payload": example,
                }
            ],
        }
        if command:
            codes = command_refusals(ce_type)
            message["x-refusal-codes"] = codes
            listed = "\n".join(f"- `{code}`: {meaning}" for code, meaning in codes.items())
            answer = f"{self.service}.CommandRejected.v1"
            message["description"] = f"{doc}\n\nRefused with a `{answer}` carrying one or more of:\n{listed}"
        self.messages[ce_type] = message
        return ce_type

    def payload_schema(self, ce_type: str, model: type[Message]) -> dict[str, Any]:
        if issubclass(model, CommandRejected):
            return schemas.rejected_schema(self.service)
        return schemas.schema_of(ce_type, model)

    def component(self, ce_type: str, schema: dict[str, Any]) -> dict[str, str]:
        """The payload under components/schemas, its `$defs` beside it as `<ce_type>.<Name>`: a `$ref` to it."""
        prefix = f"#/components/schemas/{ce_type}."
        text = json.dumps(schema).replace('"#/$defs/', f'"{prefix}')
        moved: dict[str, Any] = json.loads(text)
        for def_name, definition in moved.pop("$defs", {}).items():
            self.schemas[f"{ce_type}.{def_name}"] = definition
        # The AsyncAPI schema format is JSON Schema draft 7 with extensions: no dialect or id of 2020-12 inside.
        for keyword in ("$schema", "$id", "x-kind"):
            moved.pop(keyword, None)
        moved["x-dataschema"] = schemas.schema_id(ce_type)
        self.schemas[ce_type] = moved
        return {"$ref": f"#/components/schemas/{ce_type}"}


def _text(description: str, **more: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **more}


def _headers(ce_type: str, *, command: bool) -> dict[str, Any]:
    """The CloudEvents binary-mode headers of a message of this type (structured mode is read too: see the docs)."""
    properties = {
        "ce_specversion": _text("CloudEvents version", const=SPECVERSION),
        "ce_id": _text("unique id of this message; for a command, its idempotency key", maxLength=256),
        "ce_source": _text("who sent it: /programme/<service> or the sending system's own URI reference"),
        "ce_type": _text("the message's type", const=ce_type),
        "ce_time": _text("when the message was created, RFC 3339 with an offset", format="date-time"),
        "ce_subject": _text("the record key again"),
        "ce_correlationid": _text("one id through a whole chain; a command without one starts a chain with its ce_id"),
        "ce_causationid": _text("the ce_id of the message that caused this one"),
        "ce_dataschema": _text(
            "the `$id` of the data's JSON Schema (contract/schemas)", const=schemas.schema_id(ce_type)
        ),
        "ce_traceparent": _text("W3C trace context; carried onto the events a message causes"),
        "content-type": _text("the data's media type", const=CONTENT_TYPE),
    }
    required = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"]
    if not command:
        required += ["ce_subject", "ce_correlationid", "ce_causationid", "ce_dataschema"]
    return {"type": "object", "properties": properties, "required": required}


def _dead_letter_headers(original: dict[str, Any]) -> dict[str, Any]:
    properties = {
        **{
            name: {**prop, "description": f"as the record came: {prop['description']}"}
            for name, prop in original["properties"].items()
        },
        "x-error-code": _text("why it could not be read", enum=list(DEAD_LETTER_CODES)),
        "x-error-message": _text("what exactly was wrong, for people"),
        "x-original-topic": _text("the topic it was read from"),
        "x-original-partition": _text("its partition there, as text"),
        "x-original-offset": _text("its offset there, as text"),
    }
    required = ["x-error-code", "x-error-message", "x-original-topic", "x-original-partition", "x-original-offset"]
    return {"type": "object", "properties": properties, "required": required}


def _dead_letter_example(example: dict[str, Any], read_from: str) -> dict[str, Any]:
    errors = {
        "x-error-code": "schema_violation",
        "x-error-message": "a field of the data does not match its schema",
        "x-original-topic": read_from,
        "x-original-partition": "0",
        "x-original-offset": "42",
    }
    return {**example, "name": f"{example['name']}-dead-lettered", "headers": {**example["headers"], **errors}}


def _key_schema(model: type[Message]) -> dict[str, Any]:
    if issubclass(model, NotificationRequested):
        return _text("the recipient's e-mail, or their staff role")
    template = getattr(model, "key_template", "")
    return _text(f"the record key: `{template}` over the data; same key, same partition, so its order holds")


def _key_of(model: type[Message], example: Any) -> str:
    if issubclass(model, NotificationRequested):
        return str(examples.BY_NAME["email"])
    try:
        return model.key_from(example)
    except (KeyError, AttributeError, ValueError):
        return "example-key"


def _example_headers(ce_type: str, key: str, *, command: bool) -> dict[str, str]:
    headers = {
        "ce_specversion": SPECVERSION,
        "ce_id": "8d0c7b2e-3a41-4f6e-9c55-0b1e4f7a2d10",
        "ce_source": "/portal" if command else f"/programme/{ce_type.split('.', maxsplit=1)[0]}",
        "ce_type": ce_type,
        "ce_time": "2027-01-05T10:00:00+01:00",
        "content-type": CONTENT_TYPE,
    }
    if not command:
        headers |= {
            "ce_subject": key,
            "ce_correlationid": "5f1d2c3b-7e8a-4b9c-8d0e-1f2a3b4c5d6e",
            "ce_causationid": "5f1d2c3b-7e8a-4b9c-8d0e-1f2a3b4c5d6e",
            "ce_dataschema": schemas.schema_id(ce_type),
        }
    return headers


def _rejected_example(service: str) -> dict[str, Any]:
    """A refusal as the service gives one: of its first command, for that command's first own code."""
    commands = sorted(t for t in schemas.contract_models() if t.startswith(f"{service}.") and _is_command(t))
    command_type = commands[0] if commands else f"{service}.Unknown.v1"
    codes = [c for c in command_refusals(command_type) if c != MALFORMED] if service in REFUSAL_CODES else []
    code = codes[0] if codes else MALFORMED
    meaning = REFUSAL_CODES.get(service, {}).get(code, "the command could not be read")
    return {
        "command_id": "8d0c7b2e-3a41-4f6e-9c55-0b1e4f7a2d10",
        "command_type": command_type,
        "subject": "example-key",
        "reasons": [{"code": code, "field": None, "message": meaning}],
    }


def _is_command(ce_type: str) -> bool:
    return issubclass(schemas.contract_models()[ce_type], Command)
