"""What an incident's evidence export holds (`shared.evidence`): the incident as stored, its field
history, its notes and post-incident review, and the events it emitted."""

from __future__ import annotations

from services.incident.store.tables import incident, incident_history, incident_note, incident_review, outbox
from shared.evidence import EvidenceSource, Part

INCIDENT = EvidenceSource(
    "incident",
    incident,
    outbox,
    (
        Part("history", incident_history, "incident_id"),
        Part("notes", incident_note, "incident_id"),
        Part("review", incident_review, "incident_id"),
    ),
)
