"""What the supplier service consumes: CI events into its read model, incident, SLA and change
events into supplier performance. Its queue is bound to exactly these keys."""

from __future__ import annotations

from collections.abc import Mapping

from services.supplier.store.tables import ci_read_model
from services.supplier.usecases import performance
from shared.events.change import ChangeFailed, ChangeImplemented
from shared.events.incident import IncidentAssigned, IncidentCreated, IncidentReopened, IncidentResolved, SlaBreached
from shared.messaging import Handler, data_handlers

HANDLERS: Mapping[str, Handler] = {
    **ci_read_model.handlers,
    **data_handlers(
        (IncidentCreated, performance.on_incident_created),
        (IncidentAssigned, performance.on_incident_assigned),
        (IncidentResolved, performance.on_incident_resolved),
        (IncidentReopened, performance.on_incident_reopened),
        (SlaBreached, performance.on_sla_breached),
        (ChangeImplemented, performance.on_change_outcome),
        (ChangeFailed, performance.on_change_outcome),
    ),
}
"""Consumed routing keys -> handlers."""
