"""What each record's evidence export holds (`shared.evidence`): the record as stored, its field
history, the rows that belong to it and the events it emitted."""

from __future__ import annotations

from services.incident.store.complaints import complaint, complaint_history, complaint_link
from services.incident.store.tables import (
    incident,
    incident_change_link,
    incident_history,
    incident_note,
    incident_review,
    outbox,
    problem,
    problem_history,
    problem_incident,
    service_request,
    service_request_history,
    sla_clock,
)
from shared.evidence import EvidenceSource, Part

INCIDENT = EvidenceSource(
    "incident",
    incident,
    outbox,
    (
        Part("history", incident_history, "incident_id"),
        Part("notes", incident_note, "incident_id"),
        Part("review", incident_review, "incident_id"),
        Part("sla_clocks", sla_clock, "ticket_id"),
        Part("problems", problem_incident, "incident_id"),
        Part("changes", incident_change_link, "incident_id"),
    ),
)
PROBLEM = EvidenceSource(
    "problem",
    problem,
    outbox,
    (Part("history", problem_history, "problem_id"), Part("incidents", problem_incident, "problem_id")),
)
REQUEST = EvidenceSource(
    "request",
    service_request,
    outbox,
    (Part("history", service_request_history, "request_id"), Part("sla_clocks", sla_clock, "ticket_id")),
)
COMPLAINT = EvidenceSource(
    "complaint",
    complaint,
    outbox,
    (Part("history", complaint_history, "complaint_id"), Part("links", complaint_link, "complaint_id")),
)
