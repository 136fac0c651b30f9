"""Satisfaction (ISO/IEC 20000-1 7.1, feeding 6.2): what survey and complaint events set in the fact
tables, and the satisfaction report's rows, per service and per caller (no I/O).

Per caller because the suite keeps no customer register yet: the person asked (a ticket's caller
or requester) is the finest party the events name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.reporting.domain.facts import COMPLAINTS, SURVEYS, FactTable
from shared.events.complaint import ComplaintEvent
from shared.events.survey import SurveyAnswered, SurveyEvent

SATISFIED = frozenset({4, 5})
"""The scores counted as satisfied (CSAT: the share of answers scoring 4 or 5)."""


def survey(data: SurveyEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "survey_id": data.survey_id,
        "number": data.number,
        "ticket_kind": data.ticket_kind,
        "ticket_id": data.ticket_id,
        "service_id": data.service_id,
        "respondent": data.respondent,
        "issued_at": data.issued_at,
    }
    if isinstance(data, SurveyAnswered):
        values |= {"answered_at": data.answered_at, "score": data.score, "complaint_id": data.complaint_id}
    return [(SURVEYS, values)]


def complaint(data: ComplaintEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values = {
        "complaint_id": data.complaint_id,
        "number": data.number,
        "complainant": data.complainant,
        "received_via": data.received_via,
        "received_at": data.received_at,
        "service_id": data.service_id,
        "status": data.status,
    }
    return [(COMPLAINTS, values)]


@dataclass
class _Tally:
    issued: int = 0
    scores: list[int] = field(default_factory=list)
    from_surveys: int = 0
    complaints: int = 0

    def row(self) -> dict[str, Any]:
        answered = len(self.scores)
        return {
            "surveys_issued": self.issued,
            "answered": answered,
            "response_rate_pct": _pct(answered, self.issued),
            "average_score": round(sum(self.scores) / answered, 2) if answered else None,
            "satisfied_pct": _pct(sum(1 for s in self.scores if s in SATISFIED), answered),
            "low_score_complaints": self.from_surveys,
            "complaints": self.complaints,
        }


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _key(value: Any) -> str:
    return "" if value is None else str(value)


def satisfaction_rows(
    surveys: Iterable[Mapping[str, Any]], complaints: Iterable[Mapping[str, Any]], names: Mapping[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per service, then one per caller (each ordered by its key); `surveys` issued and
    `complaints` received in the period."""
    by_service: dict[str, _Tally] = {}
    by_caller: dict[str, _Tally] = {}
    total = _Tally()
    for s in surveys:
        for tally in (
            by_service.setdefault(_key(s["service_id"]), _Tally()),
            by_caller.setdefault(s["respondent"], _Tally()),
            total,
        ):
            tally.issued += 1
            if s["score"] is not None:
                tally.scores.append(int(s["score"]))
            if s["complaint_id"] is not None:
                tally.from_surveys += 1
    for c in complaints:
        for tally in (
            by_service.setdefault(_key(c["service_id"]), _Tally()),
            by_caller.setdefault(c["complainant"], _Tally()),
            total,
        ):
            tally.complaints += 1
    rows = [
        {"scope": "service", "service_id": key, "service_name": names.get(key, ""), "respondent": "", **t.row()}
        for key, t in sorted(by_service.items())
    ]
    rows += [
        {"scope": "caller", "service_id": "", "service_name": "", "respondent": key, **t.row()}
        for key, t in sorted(by_caller.items())
    ]
    return rows, total.row()
