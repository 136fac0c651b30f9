"""Which incidents count toward a supplier (assigned to it, or on a CI or service that one of its
contracts covered and was in force when the incident opened)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, union_all

from services.reporting.store.tables import contract_coverage_facts, contract_facts, incident_facts

# Suppliers: which incidents count toward a supplier, and the scorecards


def in_force(k: Table, at: Any) -> ColumnElement[bool]:
    """Contract `k` was in force at `at`: activated by then, within its term (starts_on to ends_on,
    the latest term when renewed), and not terminated or expired before."""
    return and_(
        k.c.activated_at <= at,
        k.c.starts_on <= at,
        at < k.c.ends_on,
        or_(k.c.ended_at.is_(None), at < k.c.ended_at),
    )


def covered_at(c: Table, at: Any) -> ColumnElement[bool]:
    """Coverage row `c` (a CI or service of a contract) was covered at `at`."""
    return and_(c.c.added_at <= at, or_(c.c.covered.is_(True), at < c.c.removed_at))


# What a contract's coverage rows match on an incident: its CI, its service.
COVERED_BY = (("ci", "ci_id"), ("service", "service_id"))


def covering(i: Any, kind: str, column: str) -> Any:
    """Incidents `i` joined to the coverage rows of their CI or service, and those rows' contracts."""
    c, k = contract_coverage_facts, contract_facts
    return c.join(k, k.c.contract_id == c.c.contract_id).join(
        i, and_(c.c.item_kind == kind, c.c.item_id == i.c[column])
    )


def covered_when_opened(i: Any) -> list[ColumnElement[bool]]:
    """The coverage row joined by `covering` held, and its contract was in force, when the incident
    opened. The time is compared as an expression no index answers (COALESCE(x, x)): otherwise
    PostgreSQL also walks the whole opened_at index for each contract (its row estimate for these
    ranges is far too low) where the rows of the item's index are few."""
    at = func.coalesce(i.c.opened_at, i.c.opened_at)
    return [covered_at(contract_coverage_facts, at), in_force(contract_facts, at)]


def attributed_to(supplier_id: Any) -> ColumnElement[bool]:
    """The incident counts toward the supplier: it is assigned to it, or its CI or service was
    covered by a contract of the supplier in force when the incident opened.

    The incidents of each reason come from the supplier_id, ci_id and service_id indexes, once
    per statement: a MATERIALIZED common table expression (`incident_id IN (SELECT ... FROM it)`;
    an incident with several reasons is one row of the outer query all the same). Inlined, the
    union was the inner side of a nested-loop semi-join, run again for each outer row, as
    PostgreSQL estimates it at a few hundred rows where a supplier has tens of thousands.
    """
    i = incident_facts.alias("attributed")
    k = contract_facts
    reasons = [select(i.c.incident_id).where(i.c.supplier_id.is_not(None), i.c.supplier_id == supplier_id)]
    for kind, column in COVERED_BY:
        reasons.append(
            select(i.c.incident_id)
            .select_from(covering(i, kind, column))
            .where(i.c[column].is_not(None), k.c.supplier_id == supplier_id, *covered_when_opened(i))
        )
    ids = union_all(*reasons).cte("attributed_ids").prefix_with("MATERIALIZED")
    return incident_facts.c.incident_id.in_(select(ids.c.incident_id))
