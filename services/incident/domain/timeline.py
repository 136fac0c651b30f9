"""An incident's timeline: work notes (agents only), comments the caller sees, and the status
updates of a major incident, beside the field history (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final
from uuid import UUID

from services.incident.domain.incident_lifecycle import IncidentStatus, NoteVisibility
from services.incident.domain.incidents import Incident
from shared.errors import Conflict, InvalidTransition, RuleViolation


class NoteKind(StrEnum):
    WORK_NOTE = "work_note"
    COMMENT = "comment"
    MAJOR_UPDATE = "major_update"


@dataclass(frozen=True)
class Note:
    incident_id: UUID
    kind: NoteKind
    visibility: NoteVisibility
    text: str
    author: str
    at: datetime


_FINAL: Final = (IncidentStatus.CLOSED, IncidentStatus.CANCELLED)

CUSTOMER_VISIBLE_FIELDS: Final = frozenset({"status"})
"""History entries a caller (requester) sees on the timeline: how the status moved, not why
(the reasons are agents' words); everything else in the history is internal."""


def write_note(incident: Incident, *, text: str, visibility: NoteVisibility, author: str, now: datetime) -> Note:
    """A work note (internal) or a comment to the caller (customer), while the incident is not
    closed or cancelled."""
    _require_open_record(incident, "note")
    kind = NoteKind.WORK_NOTE if visibility is NoteVisibility.INTERNAL else NoteKind.COMMENT
    return Note(incident.id, kind, visibility, _text(text), author, now)


def major_update(
    incident: Incident,
    *,
    text: str,
    author: str,
    now: datetime,
    visibility: NoteVisibility = NoteVisibility.CUSTOMER,
) -> Note:
    """A status update on a major incident for its stakeholders (customer-visible by default)."""
    if not incident.major:
        raise Conflict(f"{incident.number} is not a major incident; post a note instead", state=incident.status.value)
    _require_open_record(incident, "major_update")
    return Note(incident.id, NoteKind.MAJOR_UPDATE, visibility, _text(text), author, now)


def _require_open_record(incident: Incident, action: str) -> None:
    if incident.status in _FINAL:
        raise InvalidTransition(action, incident.status.value, incident.allowed_actions())


def _text(text: str) -> str:
    if not text.strip():
        raise RuleViolation("a note needs text", field="text")
    return text.strip()
