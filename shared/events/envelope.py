"""CloudEvents 1.0 envelope (structured JSON mode) and the registry of event data types."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, ClassVar, Literal, TypeVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from shared import clock
from shared.records import RecordModel

CONTENT_TYPE = "application/cloudevents+json"
TYPE_PREFIX = "itsm."
SCHEMA_BASE = "https://itsm.example/schemas/"
"""Where each event type's JSON Schema is published (`docs/schemas/<routing key>.json`); an event's
`dataschema` and its schema's `$id` are this behind the routing key."""
OPTIONAL_ATTRIBUTES = ("subject", "dataschema")
"""Left out of the wire form when unset: CloudEvents has no null attribute, and SDKs refuse one."""

EVENT_TYPES: dict[str, type[EventData]] = {}
"""Every event data type, by routing key (`incident.created.v1`)."""

D = TypeVar("D", bound="EventData")


class EventData(RecordModel):
    """The `data` of one event type. Consumers ignore fields they do not know (tolerant reader)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    routing_key: ClassVar[str]
    """`<aggregate>.<event>.v<N>`; also the AMQP routing key."""
    producer: ClassVar[str]
    """The service that publishes it (the first, for a mechanism's event that several publish)."""
    also_produced_by: ClassVar[tuple[str, ...]] = ()
    """Other services that publish it too: the events of a mechanism in `shared/` every service
    runs (records control's `record.disposed.v1`), each service's about its own records."""
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        key = cls.__dict__.get("routing_key")
        if key is None:
            return
        if key in EVENT_TYPES:
            raise TypeError(f"routing key {key!r} is declared twice")
        EVENT_TYPES[key] = cls

    @classmethod
    def producers(cls) -> tuple[str, ...]:
        """Every service that publishes it."""
        return (cls.producer, *cls.also_produced_by)

    @classmethod
    def event_type(cls) -> str:
        return TYPE_PREFIX + cls.routing_key

    @classmethod
    def schema_uri(cls) -> str:
        return f"{SCHEMA_BASE}{cls.event_type().removeprefix(TYPE_PREFIX)}.json"


class CloudEvent(BaseModel):
    """One event on the wire; `extra="allow"` keeps CloudEvents extension attributes."""

    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(default_factory=uuid4)
    source: str = Field(min_length=1)
    type: str = Field(pattern=r"^itsm\.[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\.v[0-9]+$")
    time: AwareDatetime
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    data: dict[str, Any]

    # No return annotation: pydantic would take it for the envelope's JSON Schema (a bare object).
    @model_serializer(mode="wrap")
    def _without_unset_attributes(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        wire: dict[str, Any] = handler(self)
        for name in OPTIONAL_ATTRIBUTES:
            if name in wire and wire[name] is None:
                del wire[name]
        return wire

    @property
    def routing_key(self) -> str:
        return self.type.removeprefix(TYPE_PREFIX)

    def data_as(self, data_class: builtins.type[D]) -> D:
        return data_class.model_validate(self.data)


def new_event(
    data: EventData,
    *,
    source: str,
    subject: str | None,
    time: datetime | None = None,
    event_id: UUID | None = None,
) -> CloudEvent:
    return CloudEvent(
        id=event_id or uuid4(),
        source=source,
        type=data.event_type(),
        time=time or clock.now(),
        subject=subject,
        dataschema=data.schema_uri(),
        data=data.model_dump(mode="json"),
    )


def data_class_for(routing_key: str) -> type[EventData] | None:
    return EVENT_TYPES.get(routing_key)


_STORED_NULL_SCHEMA = '"dataschema":null'


def current_wire_form(stored: str) -> str:
    """A stored envelope as it goes out today. Rows written before unset attributes were left out
    carry `"dataschema":null` (and perhaps `"subject":null`), which CloudEvents SDKs refuse: those
    are read and written again, with the schema of their type. Any other row passes unparsed."""
    if _STORED_NULL_SCHEMA not in stored:
        return stored
    event = CloudEvent.model_validate_json(stored)
    data_class = data_class_for(event.routing_key)
    if event.dataschema is None and data_class is not None:
        event = event.model_copy(update={"dataschema": data_class.schema_uri()})
    return event.model_dump_json()
