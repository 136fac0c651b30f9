"""CloudEvents 1.0 envelope (structured JSON mode) and the registry of event data types."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, ClassVar, Literal, TypeVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared import clock
from shared.records import RecordModel

CONTENT_TYPE = "application/cloudevents+json"
TYPE_PREFIX = "itsm."

EVENT_TYPES: dict[str, type[EventData]] = {}
"""Every event data type, by routing key (`incident.created.v1`)."""

D = TypeVar("D", bound="EventData")


class EventData(RecordModel):
    """The `data` of one event type. Consumers ignore fields they do not know (tolerant reader)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    routing_key: ClassVar[str]
    """`<aggregate>.<event>.v<N>`; also the AMQP routing key."""
    producer: ClassVar[str]
    """The service that publishes it."""
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
    def event_type(cls) -> str:
        return TYPE_PREFIX + cls.routing_key


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
        data=data.model_dump(mode="json"),
    )


def data_class_for(routing_key: str) -> type[EventData] | None:
    return EVENT_TYPES.get(routing_key)
