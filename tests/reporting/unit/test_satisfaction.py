"""The satisfaction projection and report rows, pure: what survey and complaint events set in the
fact tables, and the rows per service and per caller with their figures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.reporting.domain import facts
from services.reporting.domain.satisfaction import complaint, satisfaction_rows, survey
from services.reporting.events import patches_for
from shared.events import new_event
from shared.events.complaint import ComplaintAcknowledged, ComplaintReceived
from shared.events.survey import SurveyAnswered, SurveyIssued

T = datetime(2026, 10, 5, tzinfo=UTC)
SURVEY, TICKET, SERVICE, COMPLAINT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
COMMON: dict[str, Any] = {
    "survey_id": SURVEY,
    "number": "SRV0000001",
    "ticket_kind": "incident",
    "ticket_id": TICKET,
    "ticket_number": "INC0000001",
    "service_id": SERVICE,
    "respondent": "carol",
    "issued_at": T,
    "expires_at": T + timedelta(days=14),
}


def test_an_issued_survey_sets_who_was_asked_about_what() -> None:
    (table, values), *rest = survey(SurveyIssued(**COMMON, occurred_at=T, sampling_rate=0.5))
    assert rest == [] and table is facts.SURVEYS
    assert values == {k: COMMON[k] for k in ("survey_id", "number", "ticket_kind", "ticket_id", "service_id")} | {
        "respondent": "carol",
        "issued_at": T,
    }


def test_an_answer_adds_its_score_time_and_complaint() -> None:
    data = SurveyAnswered(
        **COMMON, occurred_at=T + timedelta(hours=1), answered_at=T + timedelta(hours=1), score=2, has_comment=True,
        complaint_id=COMPLAINT,
    )  # fmt: skip
    ((table, values),) = survey(data)
    assert table is facts.SURVEYS
    assert (values["score"], values["answered_at"], values["complaint_id"]) == (2, T + timedelta(hours=1), COMPLAINT)
    assert values["respondent"] == "carol" and values["issued_at"] == T
    patches = patches_for(new_event(data, source="/itsm/incident", subject=str(SURVEY)))
    assert [(p.table, p.at) for p in patches] == [(facts.SURVEYS, T + timedelta(hours=1))]


def _complaint(**changes: Any) -> dict[str, Any]:
    return {
        "complaint_id": COMPLAINT,
        "number": "CMP0000001",
        "title": "t",
        "status": "received",
        "complainant": "dan",
        "received_via": "survey",
        "service_id": SERVICE,
        "received_at": T,
        "acknowledge_due_at": T + timedelta(days=1),
        "respond_due_at": T + timedelta(days=10),
        "actor": "itsm-surveys",
        "occurred_at": T,
        **changes,
    }


def test_a_complaint_event_sets_where_the_complaint_stands() -> None:
    ((table, values),) = complaint(ComplaintReceived(**_complaint()))
    assert table is facts.COMPLAINTS
    assert values == {
        "complaint_id": COMPLAINT,
        "number": "CMP0000001",
        "complainant": "dan",
        "received_via": "survey",
        "received_at": T,
        "service_id": SERVICE,
        "status": "received",
    }
    later = ComplaintAcknowledged(
        **_complaint(status="acknowledged", occurred_at=T + timedelta(hours=1)),
        acknowledged_at=T + timedelta(hours=1),
        acknowledge_breached=False,
    )
    (patch,) = patches_for(new_event(later, source="/itsm/incident", subject=str(COMPLAINT)))
    assert patch.table is facts.COMPLAINTS and patch.values["status"] == "acknowledged"


def _s(service: str | None, who: str, score: int | None = None, complaint_id: str | None = None) -> dict[str, Any]:
    return {"service_id": service, "respondent": who, "score": score, "complaint_id": complaint_id}


def _c(service: str | None, who: str) -> dict[str, Any]:
    return {"service_id": service, "complainant": who}


FIGURES = (
    "surveys_issued", "answered", "response_rate_pct", "average_score", "satisfied_pct", "low_score_complaints",
    "complaints",
)  # fmt: skip


def test_rows_per_service_then_per_caller_with_their_figures() -> None:
    surveys = [
        _s("b", "carol", 5),
        _s("b", "dan", 2, "cmp1"),
        _s("a", "carol", 4),
        _s("a", "erin"),
        _s(None, "erin", 3),
        _s("a", "fred", 1),
    ]
    complaints = [_c("b", "dan"), _c("a", "gus"), _c(None, "gus")]
    rows, totals = satisfaction_rows(surveys, complaints, {"a": "Alpha"})
    got = [(r["scope"], r["service_id"], r["service_name"], r["respondent"], *(r[k] for k in FIGURES)) for r in rows]
    assert got == [
        ("service", "", "", "", 1, 1, 100.0, 3.0, 0.0, 0, 1),
        ("service", "a", "Alpha", "", 3, 2, 66.67, 2.5, 50.0, 0, 1),
        ("service", "b", "", "", 2, 2, 100.0, 3.5, 50.0, 1, 1),
        ("caller", "", "", "carol", 2, 2, 100.0, 4.5, 100.0, 0, 0),
        ("caller", "", "", "dan", 1, 1, 100.0, 2.0, 0.0, 1, 1),
        ("caller", "", "", "erin", 2, 1, 50.0, 3.0, 0.0, 0, 0),
        ("caller", "", "", "fred", 1, 1, 100.0, 1.0, 0.0, 0, 0),
        ("caller", "", "", "gus", 0, 0, None, None, None, 0, 2),
    ]
    assert tuple(totals[k] for k in FIGURES) == (6, 5, 83.33, 3.0, 40.0, 1, 3)
    assert list(totals) == list(FIGURES)


def test_nothing_selected_is_no_row_and_empty_totals() -> None:
    rows, totals = satisfaction_rows([], [], {})
    assert rows == []
    assert totals == dict.fromkeys(FIGURES, None) | {
        "surveys_issued": 0,
        "answered": 0,
        "low_score_complaints": 0,
        "complaints": 0,
    }
