"""AsyncAPI 3.0 description of the event stream, generated from the event contracts.

Channels are the routing keys on the topic exchange (one per event type); each carries one
message: the structured-mode CloudEvent (`application/cloudevents+json`), whose payload is the
envelope with the type's `type`, `dataschema` and `data` schema, and whose AMQP headers are the
trace context. Operations say which service sends each event and which receive it (a service
receives what its queue is bound to). A service's document holds its own part; the suite's all.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from shared.events.envelope import CONTENT_TYPE, EVENT_TYPES, CloudEvent, EventData

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"
SCHEMAS = "#/components/schemas/"
ENVELOPE = "CloudEvent"
HEADERS = "AmqpHeaders"
DESCRIPTION = (
    "Events of the ITSM suite: CloudEvents 1.0 in structured JSON mode on one AMQP topic exchange, "
    "one channel per routing key (`<aggregate>.<event>.v<N>`, the CloudEvents `type` behind `itsm.`). "
    "Each event's `dataschema` is the URI of its data's JSON Schema."
)


@dataclass(frozen=True)
class Participant:
    """A service on the event stream: it sends the event types it produces (`EventData.producers()`)
    and receives what its queue is bound to (`binding_keys`, AMQP topic patterns)."""

    name: str
    binding_keys: Collection[str] = ()
    queue: str | None = None

    def sends(self, routing_key: str) -> bool:
        return self.name in EVENT_TYPES[routing_key].producers()

    def receives(self, routing_key: str) -> bool:
        return any(topic_matches(pattern, routing_key) for pattern in self.binding_keys)


def topic_matches(pattern: str, routing_key: str) -> bool:
    """Whether a topic exchange routes `routing_key` to a queue bound with `pattern` (`*` is one
    word, `#` zero or more)."""
    return _topic_regex(pattern).fullmatch(routing_key) is not None


@cache
def _topic_regex(pattern: str) -> re.Pattern[str]:
    words = []
    for word in pattern.split("."):
        words.append(r"(?:[^.]+(?:\.[^.]+)*)?" if word == "#" else r"[^.]+" if word == "*" else re.escape(word))
    # `#` may match no word at all, so the dot beside it is optional.
    return re.compile(r"\.?".join(words) if "#" in pattern.split(".") else r"\.".join(words))


def asyncapi_document(
    participants: Sequence[Participant],
    *,
    exchange: str,
    title: str,
    version: str,
    description: str = "",
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the events these participants send or receive."""
    keys = [k for k in sorted(EVENT_TYPES) if any(p.sends(k) or p.receives(k) for p in participants)]
    schemas: dict[str, Any] = {ENVELOPE: _envelope_schema(), HEADERS: _headers_schema()}
    for key in keys:
        _add_data_schema(schemas, EVENT_TYPES[key])
    operations: dict[str, Any] = {}
    for participant in participants:
        for key in keys:
            if participant.sends(key):
                operations[f"{participant.name}.sends.{key}"] = _operation("send", participant, EVENT_TYPES[key])
            if participant.receives(key):
                operations[f"{participant.name}.receives.{key}"] = _operation("receive", participant, EVENT_TYPES[key])
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": description or DESCRIPTION,
            "tags": [{"name": p.name} for p in participants],
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": {key: _channel(EVENT_TYPES[key], exchange) for key in keys},
        "operations": operations,
        "components": {
            "messages": {EVENT_TYPES[key].__name__: _message(EVENT_TYPES[key]) for key in keys},
            "schemas": dict(sorted(schemas.items())),
        },
    }


def event_types_in(document: dict[str, Any]) -> set[str]:
    """The routing keys a document has a channel, a message and a sending operation for."""
    channels = document.get("channels", {})
    messages = document.get("components", {}).get("messages", {})
    sent = {
        op["channel"]["$ref"].removeprefix("#/channels/")
        for op in document.get("operations", {}).values()
        if op.get("action") == "send"
    }
    return {
        key
        for key, cls in EVENT_TYPES.items()
        if channels.get(key, {}).get("address") == key and cls.__name__ in messages and key in sent
    }


def _channel(cls: type[EventData], exchange: str) -> dict[str, Any]:
    return {
        "address": cls.routing_key,
        "title": cls.routing_key,
        "description": cls.description,
        "messages": {cls.__name__: {"$ref": f"#/components/messages/{cls.__name__}"}},
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {"name": exchange, "type": "topic", "durable": True, "autoDelete": False},
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


def _message(cls: type[EventData]) -> dict[str, Any]:
    return {
        "name": cls.__name__,
        "title": cls.event_type(),
        "summary": cls.description,
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": SCHEMAS + HEADERS},
        "payload": {
            "allOf": [
                {"$ref": SCHEMAS + ENVELOPE},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": cls.event_type()},
                        "dataschema": {"const": cls.schema_uri()},
                        "data": {"$ref": SCHEMAS + cls.routing_key},
                    },
                },
            ]
        },
        "bindings": {"amqp": {"messageType": cls.event_type(), "bindingVersion": AMQP_BINDING_VERSION}},
    }


def _operation(action: str, participant: Participant, cls: type[EventData]) -> dict[str, Any]:
    key = cls.routing_key
    if action == "send":
        how = f"{participant.name} publishes `{cls.event_type()}` on the exchange with routing key `{key}`."
        binding = {"deliveryMode": 2, "mandatory": True, "bindingVersion": AMQP_BINDING_VERSION}
    else:
        queue = f"queue `{participant.queue}`" if participant.queue else "its queue"
        how = f"{participant.name} consumes `{cls.event_type()}` from {queue}, bound to `{key}`."
        binding = {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}
    return {
        "action": action,
        "title": f"{participant.name} {action}s {key}",
        "summary": how,
        "channel": {"$ref": f"#/channels/{key}"},
        "messages": [{"$ref": f"#/channels/{key}/messages/{cls.__name__}"}],
        "tags": [{"name": participant.name}],
        "bindings": {"amqp": binding},
    }


def _envelope_schema() -> dict[str, Any]:
    schema = CloudEvent.model_json_schema(mode="validation", ref_template=SCHEMAS + "{model}")
    schema["description"] = (
        "A CloudEvents 1.0 event in structured JSON mode: the attributes and `data` in the body. "
        "Optional attributes that are unset are left out."
    )
    return schema


def _headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "AMQP application headers: the W3C trace context of the request that caused the event.",
        "properties": {"traceparent": {"type": "string"}, "tracestate": {"type": "string"}},
        "additionalProperties": True,
    }


def _add_data_schema(schemas: dict[str, Any], cls: type[EventData]) -> None:
    """The type's data schema under its routing key, its nested definitions beside it (by name;
    two types may share one, never with two meanings)."""
    schema = cls.model_json_schema(mode="serialization", ref_template=SCHEMAS + "{model}")
    for name, definition in schema.pop("$defs", {}).items():
        if schemas.setdefault(name, definition) != definition:
            raise ValueError(f"two event types define the schema {name!r} differently")
    schema["title"] = cls.event_type()
    schemas[cls.routing_key] = schema
