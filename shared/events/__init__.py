"""The published language of the suite: the CloudEvents envelope and every event contract.

Each event type is one frozen pydantic model (a subclass of `EventData`) with an explicit,
versioned routing key; the CloudEvents `type` is the routing key behind `itsm.`. A breaking
change is a new class with a new key (`...v2`), published beside the old one for a while.
"""

from shared.events import (  # noqa: F401 - registers the types
    agreement,
    change,
    complaint,
    config,
    continuity,
    cost,
    improvement,
    incident,
    notify,
    records,
    report,
    supplier,
    survey,
)
from shared.events.envelope import (
    CONTENT_TYPE,
    EVENT_TYPES,
    CloudEvent,
    EventData,
    data_class_for,
    new_event,
)

__all__ = ["CONTENT_TYPE", "EVENT_TYPES", "CloudEvent", "EventData", "data_class_for", "new_event"]
