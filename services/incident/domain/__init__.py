"""The incident service's domain as pure code (no I/O), one module per area: `incident` (the
incident record, its priority and lifecycle). Other areas (SLA clocks, service requests, problems)
sit beside it as their own modules.

The names of `incident` are re-exported here, so `from services.incident.domain import Incident`
keeps working."""

from services.incident.domain.incident import (
    DEFAULT_PRIORITY_MATRIX,
    DEFAULT_REOPEN_WINDOW,
    TRANSITIONS,
    Action,
    Channel,
    HoldReason,
    Impact,
    Incident,
    IncidentChanged,
    IncidentOpened,
    IncidentStatus,
    Urgency,
    priority_for,
)

__all__ = [
    "DEFAULT_PRIORITY_MATRIX",
    "DEFAULT_REOPEN_WINDOW",
    "TRANSITIONS",
    "Action",
    "Channel",
    "HoldReason",
    "Impact",
    "Incident",
    "IncidentChanged",
    "IncidentOpened",
    "IncidentStatus",
    "Urgency",
    "priority_for",
]
