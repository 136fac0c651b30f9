"""Customers' service levels (ISO/IEC 20000-1 6.1, 6.2): what config's agreement events set in the
fact tables, and the customer service levels report's rows: per customer, the agreement in force
and how the customer's incidents did against its targets (their clocks ran on the agreed targets,
set in the incident service from the same events). No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from services.reporting.domain.facts import AGREEMENTS, FactTable
from shared.events.agreement import AgreementAgreed, AgreementEvent

COUNTS = ("incidents", "response_measured", "response_met", "resolution_measured", "resolution_met")


def agreement(data: AgreementEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "agreement_id": data.agreement_id,
        "number": data.number,
        "document_version": data.document_version,
        "kind": data.kind,
        "customer_id": data.customer_id,
        "customer_name": data.customer_name,
        "group_name": data.group,
        "availability_pct": data.availability_pct,
        "status": data.status,
    }
    if isinstance(data, AgreementAgreed):
        values["agreed_at"] = data.occurred_at
    else:
        values["ended_at"] = data.occurred_at
    return [(AGREEMENTS, values)]


def in_force(agreements: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Per customer, the SLA version in force: agreed and not ended, the latest agreed if several."""
    found: dict[str, Mapping[str, Any]] = {}
    for a in agreements:
        if a["kind"] != "sla" or a["status"] != "agreed" or a["customer_id"] is None:
            continue
        key = str(a["customer_id"])
        if key not in found or (a["agreed_at"], a["document_version"]) > (
            found[key]["agreed_at"],
            found[key]["document_version"],
        ):
            found[key] = a
    return found


def customer_service_level_rows(
    groups: Iterable[Mapping[str, Any]], agreements: Iterable[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per customer (with incidents in the period, or an agreement in force), by name;
    `groups` are the incident counts per customer."""
    known = list(agreements)
    current = in_force(known)
    names = {str(a["customer_id"]): a["customer_name"] for a in known if a["customer_id"] is not None}
    counts = {str(g["customer_id"]): {c: int(g[c] or 0) for c in COUNTS} for g in groups}
    total = dict.fromkeys(COUNTS, 0)
    rows = []
    for key in sorted(set(counts) | set(current), key=lambda k: ((names.get(k) or "").lower(), k)):
        tally = counts.get(key, dict.fromkeys(COUNTS, 0))
        for c in COUNTS:
            total[c] += tally[c]
        sla = current.get(key)
        rows.append(
            {
                "customer_id": key,
                "customer_name": names.get(key) or "",
                "agreement_number": sla["number"] if sla else "",
                "document_version": sla["document_version"] if sla else None,
                "availability_target_pct": sla["availability_pct"] if sla else None,
                **tally,
                **_shares(tally),
            }
        )
    return rows, {**total, **_shares(total)}


def _shares(tally: Mapping[str, int]) -> dict[str, float | None]:
    return {
        "response_met_pct": _pct(tally["response_met"], tally["response_measured"]),
        "resolution_met_pct": _pct(tally["resolution_met"], tally["resolution_measured"]),
    }


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


# The report's definition, as definitions.py's DEFINITIONS takes it.

DEFINITION: dict[str, Any] = {
    "name": "customer-service-levels",
    "title": "Customer service levels: each customer's incidents against their agreed SLA",
    "purpose": "Service level agreements (6.1, 6.2 a): per customer, the SLA in force and the share of targets met",
    "audience": ("customers", "service level manager", "relationship managers"),
    "frequency": "monthly",
    "data_source": "agreement.* events (config); incident.* events (the incident's customer_id and SLA results)",
    "filters": ("from", "to", "service_id", "priority"),
    "period_applies_to": "an incident's opened_at",
    "columns": {
        "customer_id": "the customer (config's registry)",
        "customer_name": "as the agreement events name them",
        "agreement_number": "the SLA in force (agreed, not superseded or retired); empty: none",
        "document_version": "its version",
        "availability_target_pct": "its availability target",
        "incidents": "the customer's incidents opened in the period",
        **{f"{t}_{k}": f"of those, {t} targets {k}" for t in ("response", "resolution") for k in ("measured", "met")},
        **{f"{t}_met_pct": f"{t}_met / {t}_measured x 100" for t in ("response", "resolution")},
    },
}
