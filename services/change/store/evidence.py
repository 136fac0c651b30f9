"""What a change's evidence export holds (`shared.evidence`): the change as stored, the CIs and
services it affects, its design, the approvers' votes, its post-implementation review, the
incidents linked to it, and the events it emitted (a change keeps no field history table: its
events are the record of each step, who took it and when)."""

from __future__ import annotations

from services.change.store.tables import (
    change,
    change_affected_ci,
    change_design,
    change_incident_link,
    change_review,
    change_service,
    change_vote,
    outbox,
)
from shared.evidence import EvidenceSource, Part

CHANGE = EvidenceSource(
    "change",
    change,
    outbox,
    (
        Part("affected_cis", change_affected_ci, "change_id"),
        Part("services", change_service, "change_id"),
        Part("design", change_design, "change_id"),
        Part("votes", change_vote, "change_id"),
        Part("review", change_review, "change_id"),
        Part("incidents", change_incident_link, "change_id"),
    ),
)
