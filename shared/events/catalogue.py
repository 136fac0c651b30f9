"""JSON Schema export of every event type, for the catalogue, snapshots and outside consumers."""

from __future__ import annotations

from typing import Any

from shared.events.envelope import EVENT_TYPES, CloudEvent, EventData


def data_schema(cls: type[EventData]) -> dict[str, Any]:
    schema = cls.model_json_schema(mode="serialization")
    schema["title"] = cls.event_type()
    schema["$id"] = cls.schema_uri()
    return schema


def all_schemas() -> dict[str, dict[str, Any]]:
    """Routing key -> JSON Schema of its `data`, in a stable order."""
    return {key: data_schema(EVENT_TYPES[key]) for key in sorted(EVENT_TYPES)}


def envelope_schema() -> dict[str, Any]:
    return CloudEvent.model_json_schema(mode="serialization")
