"""Customer service levels as pure code: what agreement events set in `agreement_facts`, which SLA
version is in force per customer, and the report's rows and totals."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.reporting.domain.customer_levels import agreement, customer_service_level_rows, in_force
from services.reporting.domain.facts import AGREEMENTS
from shared.events.agreement import AgreementAgreed, AgreementRetired, AgreementSuperseded

T = datetime(2026, 12, 1, tzinfo=UTC)
ACME, GLOBEX = uuid.uuid4(), uuid.uuid4()


def terms(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "agreement_id": uuid.uuid4(),
        "number": "SLA0000001",
        "document_version": 1,
        "kind": "sla",
        "title": "t",
        "customer_id": ACME,
        "customer_name": "Acme",
        "service_ids": [uuid.uuid4()],
        "targets": [{"priority": 1, "response_minutes": 1, "resolution_minutes": 2}],
        "availability_pct": 99.5,
        "calendar": "24x7",
        "review_date": date(2027, 1, 1),
        "actor": "sally",
        "occurred_at": T,
    }
    return {**values, **changes}


def test_agreement_events_set_their_row() -> None:
    agreed = terms(status="agreed")
    [(table, values)] = agreement(AgreementAgreed(**agreed))
    assert table is AGREEMENTS
    assert values == {
        "agreement_id": agreed["agreement_id"],
        "number": "SLA0000001",
        "document_version": 1,
        "kind": "sla",
        "customer_id": ACME,
        "customer_name": "Acme",
        "group_name": None,
        "availability_pct": 99.5,
        "status": "agreed",
        "agreed_at": T,
    }
    later = T + timedelta(days=1)
    [(_, superseded)] = agreement(
        AgreementSuperseded(**terms(status="superseded", occurred_at=later), superseded_by=uuid.uuid4())
    )
    assert (superseded["status"], superseded["ended_at"]) == ("superseded", later) and "agreed_at" not in superseded
    [(_, retired)] = agreement(AgreementRetired(**terms(status="retired", kind="ola", customer_id=None, group="ops")))
    assert (retired["status"], retired["group_name"], retired["ended_at"]) == ("retired", "ops", T)


def fact(**changes: Any) -> dict[str, Any]:
    values = {"number": "SLA0000001", "document_version": 1, "kind": "sla", "customer_id": ACME}
    values |= {"customer_name": "Acme", "availability_pct": 99.5, "status": "agreed", "agreed_at": T}
    return {**values, **changes}


def test_the_version_in_force_is_the_latest_agreed_sla_of_the_customer() -> None:
    v1, v2 = fact(), fact(document_version=2, agreed_at=T + timedelta(days=2))
    assert in_force([v2, v1])[str(ACME)] is v2
    assert in_force([v1, v2])[str(ACME)] is v2
    same_time = fact(document_version=3, agreed_at=T + timedelta(days=2))
    assert in_force([same_time, v2])[str(ACME)] is same_time
    assert in_force([fact(status="superseded"), fact(status="retired")]) == {}
    assert in_force([fact(kind="ola"), fact(customer_id=None)]) == {}


def test_rows_per_customer_with_their_sla_and_shares() -> None:
    groups = [
        {"customer_id": ACME, "incidents": 4, "response_measured": 4, "response_met": 3}
        | {"resolution_measured": 2, "resolution_met": 1},
        {"customer_id": GLOBEX, "incidents": 1, "response_measured": 0, "response_met": 0}
        | {"resolution_measured": 0, "resolution_met": None},
    ]
    agreements = [fact(), fact(document_version=2, availability_pct=99.9, agreed_at=T + timedelta(days=1))]
    agreements.append(fact(customer_id=GLOBEX, customer_name="globex", number="SLA0000009", status="retired"))
    rows, totals = customer_service_level_rows(groups, agreements)
    assert [
        (r["customer_name"], r["agreement_number"], r["document_version"], r["availability_target_pct"]) for r in rows
    ] == [
        ("Acme", "SLA0000001", 2, 99.9),
        ("globex", "", None, None),
    ]
    assert (rows[0]["response_met_pct"], rows[0]["resolution_met_pct"]) == (75.0, 50.0)
    assert (rows[1]["incidents"], rows[1]["resolution_met"], rows[1]["response_met_pct"]) == (1, 0, None)
    assert totals == {
        "incidents": 5,
        "response_measured": 4,
        "response_met": 3,
        "resolution_measured": 2,
        "resolution_met": 1,
        "response_met_pct": 75.0,
        "resolution_met_pct": 50.0,
    }
    # A customer with an SLA in force and no incidents has a row of zeros.
    quiet, quiet_totals = customer_service_level_rows([], [fact()])
    assert [(r["customer_id"], r["incidents"], r["resolution_met_pct"]) for r in quiet] == [(str(ACME), 0, None)]
    assert quiet_totals["incidents"] == 0 and quiet_totals["response_met_pct"] is None
    assert customer_service_level_rows([], []) == (
        [],
        {
            **dict.fromkeys(
                ("incidents", "response_measured", "response_met", "resolution_measured", "resolution_met"), 0
            ),
            "response_met_pct": None,
            "resolution_met_pct": None,
        },
    )
