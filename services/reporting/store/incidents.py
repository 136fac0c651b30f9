"""The aggregates of the incident and request reports: incidents, major incidents, workload, CI hot
spots, outages (availability and DORA), requests, problems; and the first slice's summary."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, distinct, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.figures import (
    CLOSED_INCIDENT,
    FINISHED_PROBLEM,
    FINISHED_REQUEST,
    RESOLVED_INCIDENT,
    Window,
)
from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.queries import (
    aggregating,
    as_dicts,
    at_moment,
    count_true,
    in_period,
    incident_conditions,
    not_in,
    period_label,
    period_text,
    plain_numbers,
    seconds_of,
    sla_verdict,
)
from services.reporting.store.tables import OUTAGE, RECURRENCE, ci_facts, incident_facts, problem_facts, request_facts


async def incident_counts(conn: AsyncConnection) -> list[tuple[str, int, int]]:
    i = incident_facts
    query = select(i.c.status, i.c.priority, func.count()).where(i.c.status.is_not(None), i.c.priority.is_not(None))
    rows = await conn.execute(query.group_by(i.c.status, i.c.priority))
    return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]


async def incident_groups(conn: AsyncConnection, filters: ReportFilters, now: datetime) -> list[dict[str, Any]]:
    """Per (service, group), the sums `figures.incidents_rows` folds: counts, seconds summed (to
    resolve, of backlog age at `now`, to first response), the oldest open incident's opened_at."""
    i = incident_facts
    resolved = and_(i.c.status.in_(RESOLVED_INCIDENT), i.c.resolved_at.is_not(None))
    backlog = not_in(i.c.status, CLOSED_INCIDENT)
    query = (
        select(
            i.c.service_id,
            i.c.assignment_group,
            func.count().label("opened"),
            func.count().filter(resolved).label("resolved"),
            seconds_of(conn, func.sum, i.c.resolved_at, i.c.opened_at, resolved).label("resolve_s"),
            func.count().filter(backlog).label("backlog"),
            seconds_of(conn, func.sum, at_moment(now), i.c.opened_at, backlog).label("backlog_age_s"),
            func.min(i.c.opened_at).filter(backlog).label("backlog_oldest_opened_at"),
            func.count(i.c.first_response_at).label("responded"),
            seconds_of(conn, func.sum, i.c.first_response_at, i.c.opened_at).label("response_s"),
            func.count().filter(i.c.major.is_(True)).label("major"),
            func.coalesce(func.sum(i.c.reassignments), 0).label("reassignments"),
        )
        .where(*incident_conditions(filters))
        .group_by(i.c.service_id, i.c.assignment_group)
    )
    await aggregating(conn)
    floats = ("resolve_s", "backlog_age_s", "response_s")
    return [plain_numbers(r, floats=floats) for r in await conn.execute(query)]


async def major_incident_numbers(conn: AsyncConnection, filters: ReportFilters) -> list[str]:
    """The numbers of the major incidents (a few: through their partial index, not in the scan
    above, where an array aggregate would keep PostgreSQL from aggregating in parallel)."""
    i = incident_facts
    query = select(i.c.number).where(*incident_conditions(filters), i.c.major.is_(True), i.c.number.is_not(None))
    return [str(n) for n in (await conn.execute(query)).scalars()]


async def workload_groups(conn: AsyncConnection, filters: ReportFilters) -> tuple[list[Any], list[Any]]:
    """Per (period, group): incidents opened, resolved now, their reassignments and escalations;
    requests submitted and fulfilled now."""
    granularity = filters.period or "day"
    i, r = incident_facts, request_facts
    incidents = (
        select(
            period_label(conn, i.c.opened_at, granularity).label("period"),
            i.c.assignment_group,
            func.count().label("opened"),
            func.count().filter(i.c.status.in_(RESOLVED_INCIDENT)).label("resolved"),
            func.coalesce(func.sum(i.c.reassignments), 0).label("reassignments"),
            func.coalesce(func.sum(i.c.escalations), 0).label("escalations"),
        )
        .where(*incident_conditions(filters))
        .group_by(literal_column("1"), i.c.assignment_group)
    )
    requests = (
        select(
            period_label(conn, r.c.submitted_at, granularity).label("period"),
            r.c.assignment_group,
            func.count().label("submitted"),
            func.count(r.c.fulfilled_at).label("fulfilled"),
        )
        .where(*_request_conditions(filters))
        .group_by(literal_column("1"), r.c.assignment_group)
    )
    await aggregating(conn)
    found = []
    for query in (incidents, requests):
        found.append([plain_numbers(row) | {"period": period_text(row.period)} for row in await conn.execute(query)])
    return found[0], found[1]


def _uuid_text(conn: AsyncConnection, column: Any) -> Any:
    """A UUID column as `str(uuid)` writes it (SQLite stores 32 hex digits)."""
    if conn.dialect.name == "postgresql":
        return cast(column, String)
    parts = [func.substr(column, start, length) for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))]
    return func.lower(parts[0] + "-" + parts[1] + "-" + parts[2] + "-" + parts[3] + "-" + parts[4])


async def hotspot_groups(conn: AsyncConnection, filters: ReportFilters, limit: int) -> tuple[list[Any], dict[str, int]]:
    """The `limit` CIs with the most incidents (ties by name, else id, in code point order), each
    with its counts, distinct problems, latest opened_at and the service of that latest incident;
    and the totals over every CI (how many, their incidents, those without a CI, the CIs with a
    recurrence or at least 3 incidents). One scan; then the few incidents of those CIs that are
    linked to a problem, and their latest ones, by index."""
    i, c = incident_facts, ci_facts
    n = func.count()
    recurring = func.count().filter(i.c.problem_link_reason == "recurrence")
    on_ci, no_ci = i.c.ci_id.is_not(None), i.c.ci_id.is_(None)
    per_ci = (
        select(
            i.c.ci_id,
            n.label("incidents"),
            func.count().filter(not_in(i.c.status, CLOSED_INCIDENT)).label("open"),
            count_true(i.c.major).label("major"),
            recurring.label("recurring"),
            func.max(i.c.opened_at).label("last_opened_at"),
            # Incidents without a CI are one group here, ranked last and counted apart.
            func.rank().over(order_by=case((no_ci, -1), else_=n).desc()).label("ranked"),
            func.sum(case((on_ci, 1), else_=0)).over().label("cis"),
            func.sum(case((on_ci, n), else_=0)).over().label("incidents_on_cis"),
            func.sum(case((no_ci, n), else_=0)).over().label("incidents_without_ci"),
            func.sum(case((and_(on_ci, or_(recurring > 0, n >= 3)), 1), else_=0)).over().label("cis_with_recurrence"),
        )
        .where(*incident_conditions(filters))
        .group_by(i.c.ci_id)
        .subquery("per_ci")
    )
    # Compared as Python compares str (code points): the C collation, SQLite's default BINARY.
    name = func.coalesce(func.nullif(c.c.name, ""), _uuid_text(conn, per_ci.c.ci_id)).collate(
        "C" if conn.dialect.name == "postgresql" else "BINARY"
    )
    query = (
        select(per_ci)
        .select_from(per_ci.outerjoin(c, c.c.ci_id == per_ci.c.ci_id))
        .where(per_ci.c.ci_id.is_not(None), per_ci.c.ranked <= limit)  # every CI tied with the last one
        .order_by(per_ci.c.incidents.desc(), name)
        .limit(limit)
    )
    await aggregating(conn)
    top = [plain_numbers(r) for r in await conn.execute(query)]
    totals = ("cis", "incidents_on_cis", "incidents_without_ci", "cis_with_recurrence")
    if not top:
        without = await conn.scalar(select(func.count()).where(*incident_conditions(filters), no_ci))
        return [], dict.fromkeys(totals, 0) | {"incidents_without_ci": int(without or 0)}
    summary = {k: int(top[0][k]) for k in totals}
    # A count(DISTINCT) in the scan above would sort every incident; these few use an index.
    linked = [*incident_conditions(filters), i.c.ci_id.in_([r["ci_id"] for r in top]), i.c.problem_id.is_not(None)]
    problems = select(i.c.ci_id, func.count(distinct(i.c.problem_id))).where(*linked).group_by(i.c.ci_id)
    distinct_problems = {r[0]: int(r[1]) for r in await conn.execute(problems)}
    # The latest incident of each: looked up by its opened_at (an index), matched to its CI here.
    wanted = {(r["ci_id"], r["last_opened_at"]) for r in top}
    latest = select(i.c.ci_id, i.c.opened_at, i.c.service_id).where(
        *incident_conditions(filters),
        i.c.opened_at.in_(sorted({at for _, at in wanted})),
        i.c.ci_id.in_([r["ci_id"] for r in top]),
    )
    services: dict[Any, list[Any]] = defaultdict(list)
    for ci_id, opened_at, service_id in await conn.execute(latest):
        if (ci_id, opened_at) in wanted:
            services[ci_id].append(service_id)
    for row in top:
        # Two latest incidents opened at the same instant: the first service id (none first).
        row["service_id"] = min(services[row["ci_id"]], key=lambda s: "" if s is None else str(s), default=None)
        row["problems"] = distinct_problems.get(row["ci_id"], 0)
        for k in (*totals, "ranked"):
            del row[k]
    return top, summary


async def outage_incidents(
    conn: AsyncConnection, filters: ReportFilters, window: Window, *, resolved_in_window: bool = False
) -> list[dict[str, Any]]:
    """Priority 1 or major incidents on a service overlapping the window (or, with
    `resolved_in_window`, resolved in it): their service, opened_at and resolved_at."""
    i = incident_facts
    conditions: list[ColumnElement[bool]] = [
        i.c.opened_at.is_not(None),
        i.c.service_id.is_not(None),
        OUTAGE,
    ]
    if resolved_in_window:
        conditions += [i.c.resolved_at >= window.start, i.c.resolved_at < window.end]
    else:
        conditions += [i.c.opened_at < window.end, i.c.resolved_at.is_(None) | (i.c.resolved_at > window.start)]
    if filters.service_id is not None:
        conditions.append(i.c.service_id == filters.service_id)
    return await as_dicts(conn, select(i.c.service_id, i.c.opened_at, i.c.resolved_at).where(*conditions))


async def resolved_outages(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """Priority 1 or major incidents on a service resolved in the period (their last resolution
    recorded), with the problem linked to them (None: none)."""
    i = incident_facts
    conditions: list[ColumnElement[bool]] = [
        i.c.opened_at.is_not(None),
        i.c.service_id.is_not(None),
        OUTAGE,
        i.c.resolved_at.is_not(None),
        *in_period(i.c.resolved_at, filters),
    ]
    if filters.service_id is not None:
        conditions.append(i.c.service_id == filters.service_id)
    columns = (i.c.incident_id, i.c.number, i.c.service_id, i.c.priority, i.c.major, i.c.opened_at, i.c.resolved_at)
    return await as_dicts(conn, select(*columns, i.c.problem_id).where(*conditions))


def _request_conditions(filters: ReportFilters) -> list[ColumnElement[bool]]:
    r = request_facts
    conditions: list[ColumnElement[bool]] = [r.c.submitted_at.is_not(None), *in_period(r.c.submitted_at, filters)]
    if filters.service_id is not None:
        conditions.append(r.c.service_id == filters.service_id)
    if filters.group is not None:
        conditions.append(r.c.assignment_group == filters.group)
    if filters.priority is not None:
        conditions.append(r.c.priority == filters.priority)
    return conditions


async def request_groups(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """Per (service, catalogue item): counts by outcome, fulfilment seconds (sum, max), targets measured and met."""
    r = request_facts
    query = (
        select(
            r.c.service_id,
            r.c.catalogue_item,
            func.count().label("submitted"),
            func.count(r.c.fulfilled_at).label("fulfilled"),
            func.count().filter(not_in(r.c.status, FINISHED_REQUEST)).label("open"),
            func.count().filter(r.c.status == "rejected").label("rejected"),
            func.count().filter(r.c.status == "cancelled").label("cancelled"),
            seconds_of(conn, func.sum, r.c.fulfilled_at, r.c.submitted_at).label("fulfilment_s"),
            seconds_of(conn, func.max, r.c.fulfilled_at, r.c.submitted_at).label("max_fulfilment_s"),
            func.count(sla_verdict(r, "fulfilment")).label("measured"),
            count_true(sla_verdict(r, "fulfilment")).label("met"),
        )
        .where(*_request_conditions(filters))
        .group_by(r.c.service_id, r.c.catalogue_item)
    )
    await aggregating(conn)
    return [
        plain_numbers(row, floats=("fulfilment_s",), extremes=("max_fulfilment_s",))
        for row in await conn.execute(query)
    ]


async def problem_groups(conn: AsyncConnection, filters: ReportFilters) -> tuple[list[Any], list[Any]]:
    """Per service: problems by state and origin with their linked incidents; and the incidents
    (by the incident filters) linked to a problem as a recurrence."""
    p, i = problem_facts, incident_facts
    conditions: list[ColumnElement[bool]] = [p.c.opened_at.is_not(None), *in_period(p.c.opened_at, filters)]
    if filters.service_id is not None:
        conditions.append(p.c.service_id == filters.service_id)
    finished = p.c.status.in_(FINISHED_PROBLEM)
    problems = (
        select(
            p.c.service_id,
            func.count().label("opened"),
            func.count().filter(not_in(p.c.status, FINISHED_PROBLEM)).label("open"),
            func.count(p.c.known_error_at).label("known_errors"),
            func.count().filter(finished).label("resolved"),
            func.count().filter(finished, p.c.change_id.is_not(None)).label("resolved_by_change"),
            func.count().filter(p.c.origin == "recurrence").label("from_recurrence"),
            func.coalesce(func.sum(p.c.incident_count), 0).label("linked_incidents"),
        )
        .where(*conditions)
        .group_by(p.c.service_id)
    )
    recurring = (
        select(i.c.service_id, func.count().label("incidents"))
        .where(*incident_conditions(filters), RECURRENCE)
        .group_by(i.c.service_id)
    )
    await aggregating(conn)
    return [plain_numbers(r) for r in await conn.execute(problems)], [
        plain_numbers(r) for r in await conn.execute(recurring)
    ]
