"""The incident service's records under retention (ISO/IEC 20000-1 4.3.3, `shared.retention_store`):
incidents, service requests and complaints. What makes up each record is its evidence source; a
policy counts from when it was closed. (Problems and known errors are not under retention yet:
incidents and known errors name their problem.)"""

from __future__ import annotations

from services.incident.store.evidence import COMPLAINT, INCIDENT, REQUEST
from services.incident.store.tables import incident_fact
from shared.evidence import Part
from shared.retention_store import Disposable

DISPOSABLES = (
    # Problem analysis's fact about the incident (from its created event) goes with it.
    Disposable(INCIDENT, ("closed_at",), also=(Part("fact", incident_fact, "incident_id"),)),
    Disposable(REQUEST, ("closed_at",)),
    Disposable(COMPLAINT, ("closed_at",)),
)
