"""A year of a large enterprise in reporting's fact tables, for the report benchmark.

1,000,000 incidents (scaled by `incidents`: ~100,000 requests, ~20,000 changes with their
services, deployments and caused incidents, ~2,000 problems, ~50,000 CIs with findings, 20
suppliers with contracts, coverage (see `_suppliers`), breaches and disputes), generated from a
fixed seed, and loaded into a migrated reporting database with COPY (PostgreSQL) or one
`executemany` per table (SQLite, the values written as SQLAlchemy writes them there).

Incidents: over the year, 50 services, 12 groups (1 % none), priorities 1-5 weighted to 3-4, 85 %
on a CI drawn with a skew (the busiest CI has ~0.5 % of them), ~2 % still open plus half of the
last week's, 95 % acknowledged, SLA results with some unmeasured, 10 % on a supplier, 3 % linked
to a problem (60 % of those as a recurrence); rows as wide as a live projection's (impact,
urgency, category, channel, breach flags and the stamps of the latest-wins columns filled).
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

YEAR_START = datetime(2025, 11, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 11, 1, tzinfo=UTC)
STAMP = YEAR_END
GROUPS = [f"group{i}" for i in range(12)]
OPEN_INCIDENT = ("new", "assigned", "in_progress", "on_hold")
CATEGORIES = ("hardware", "software", "network", "access", "database", "email", "storage", "security")
CHANNELS = ("portal", "email", "phone", "alert")
CI_TYPES = ("server", "server", "server", "application", "application", "database", "network", "storage")


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass
class Table:
    name: str
    columns: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class DataSet:
    services: list[uuid.UUID]
    suppliers: list[uuid.UUID]
    attributed: dict[uuid.UUID, int]
    """Per supplier, the incidents that count toward it (store.attributed_to's rule, computed here)."""
    tables: list[Table]

    def count(self, name: str) -> int:
        return next(len(t.rows) for t in self.tables if t.name == name)


def generate(incidents: int, *, seed: int = 11, services: int = 50) -> DataSet:
    rng = random.Random(seed)
    scale = incidents / 1_000_000
    n_cis, n_requests, n_changes = max(100, int(50_000 * scale)), int(100_000 * scale), int(20_000 * scale)
    n_problems, n_suppliers = max(10, int(2_000 * scale)), 20
    year_s = int((YEAR_END - YEAR_START).total_seconds())
    service_ids = [_uuid(rng) for _ in range(services)]
    suppliers = [_uuid(rng) for _ in range(n_suppliers)]
    cis = [_uuid(rng) for _ in range(n_cis)]
    problems = [_uuid(rng) for _ in range(n_problems)]

    def moment() -> datetime:
        return YEAR_START + timedelta(seconds=rng.randint(0, year_s - 1), microseconds=rng.randint(0, 999_999))

    def met(p_null: float, p_met: float) -> bool | None:
        x = rng.random()
        return None if x < p_null else x < p_null + (1 - p_null) * p_met

    def later(start: datetime, mean_hours: float) -> datetime:
        return start + timedelta(seconds=int(rng.expovariate(1 / (mean_hours * 3600))) + 60)

    # Configuration items: the services themselves, then the rest.
    ci_rows = [
        (s, f"CI{n:07d}", f"Service {n:02d}", "business_service", "active", 2, None, None, YEAR_START)
        for n, s in enumerate(service_ids)
    ]
    for n, ci in enumerate(cis):
        status = rng.choices(("in_use", "active", "retired", "planned"), (80, 10, 6, 4))[0]
        criticality = rng.choices((1, 2, 3, 4, 5), (5, 15, 40, 25, 15))[0]
        supplier = rng.choice(suppliers) if rng.random() < 0.2 else None
        ci_rows.append(
            (ci, f"CI{n + services:07d}", f"host-{n:05d}", rng.choice(CI_TYPES), status, criticality,
             rng.choice(service_ids), supplier, YEAR_START)
        )  # fmt: skip
    ci_table = Table(
        "ci_facts",
        ["ci_id", "number", "name", "type", "status", "criticality", "service_id", "supplier_id", "created_at"],
        ci_rows,
    )

    incident_rows = []
    priorities, weights = (1, 2, 3, 4, 5), (2, 10, 38, 40, 10)
    resolve_hours = {1: 4, 2: 8, 3: 24, 4: 48, 5: 72}
    for n in range(incidents):
        opened = moment()
        priority = rng.choices(priorities, weights)[0]
        age = YEAR_END - opened
        backlog = rng.random() < (0.5 if age < timedelta(days=7) else 0.01)
        acknowledged = rng.random() < 0.95
        first_response = later(opened, 0.3) if acknowledged else None
        if backlog:
            status, resolved, closed = rng.choice(OPEN_INCIDENT), None, None
        else:
            status = rng.choices(("closed", "resolved", "cancelled"), (80, 19, 1))[0]
            resolved = later(opened, resolve_hours[priority]) if status != "cancelled" else None
            closed = resolved + timedelta(days=3) if status == "closed" and resolved else None
        ci = cis[int(n_cis * rng.random() ** 2)] if rng.random() < 0.85 else None
        linked = rng.random() < 0.03
        row = (
            _uuid(rng), f"INC{n:07d}", status, priority, rng.choice(service_ids),
            rng.choice(GROUPS) if rng.random() < 0.99 else None, ci,
            rng.choice(suppliers) if rng.random() < 0.1 else None,
            priority == 1 and rng.random() < 0.05, opened, first_response, resolved, closed,
            met(0.05, 0.9), met(0.1, 0.8), rng.choices((0, 1, 2, 3), (70, 20, 8, 2))[0],
            int(rng.random() < 0.05), rng.choice(problems) if linked else None,
            ("recurrence" if rng.random() < 0.6 else "manual") if linked else None,
        )  # fmt: skip
        # The rest of what a live projection holds (derived, so the columns above stay as drawn):
        # impact, urgency, category, channel, breach flags and the stamps of the LATEST columns.
        response_met, resolution_met = row[13], row[14]
        last = closed or resolved or first_response or opened
        incident_rows.append(
            (
                *row, 1 + (priority - 1) // 2, 1 + priority // 2, CATEGORIES[n % len(CATEGORIES)],
                CHANNELS[n % len(CHANNELS)], response_met is False, resolution_met is False,
                last, opened, opened, opened, opened, opened, first_response or opened,
                opened if ci else None, opened if row[7] else None, 0,
            )
        )  # fmt: skip
    incident_table = Table(
        "incident_facts",
        [
            "incident_id",
            "number",
            "status",
            "priority",
            "service_id",
            "assignment_group",
            "ci_id",
            "supplier_id",
            "major",
            "opened_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "response_met",
            "resolution_met",
            "reassignments",
            "escalations",
            "problem_id",
            "problem_link_reason",
            "impact",
            "urgency",
            "category",
            "channel",
            "response_breached",
            "resolution_breached",
            "status_stamp",
            "priority_stamp",
            "impact_stamp",
            "urgency_stamp",
            "service_id_stamp",
            "category_stamp",
            "assignment_group_stamp",
            "ci_id_stamp",
            "supplier_id_stamp",
            "reopens",
        ],
        incident_rows,
    )

    items = [f"item{i:02d}" for i in range(40)]
    request_rows = []
    for n in range(n_requests):
        submitted = moment()
        status = rng.choices(
            ("fulfilled", "closed", "rejected", "cancelled", "submitted", "in_progress"), (80, 5, 4, 3, 4, 4)
        )[0]
        fulfilled = later(submitted, 30) if status in ("fulfilled", "closed") else None
        request_rows.append(
            (_uuid(rng), f"REQ{n:07d}", rng.choice(items), status, rng.choice((3, 4, 5)), rng.choice(service_ids),
             rng.choice(GROUPS), submitted, fulfilled, met(0.1, 0.9) if fulfilled else None)
        )  # fmt: skip
    request_table = Table(
        "request_facts",
        ["request_id", "number", "catalogue_item", "status", "priority", "service_id", "assignment_group",
         "submitted_at", "fulfilled_at", "fulfilment_met"],
        request_rows,
    )  # fmt: skip

    change_rows, change_services, deployment_rows = [], [], []
    change_ids = []
    for n in range(n_changes):
        change_id, created = _uuid(rng), moment()
        change_ids.append(change_id)
        type_ = rng.choices(("standard", "normal", "emergency"), (60, 35, 5))[0]
        outcome = rng.choices(("implemented", "failed", "open"), (85, 4, 11))[0]
        done = later(created, 120)
        implemented = done if outcome == "implemented" else None
        failed = done if outcome == "failed" else None
        status = {"implemented": "closed", "failed": "failed", "open": "scheduled"}[outcome]
        change_rows.append(
            (change_id, f"CHG{n:07d}", type_, status, created, implemented, failed,
             outcome == "failed" and rng.random() < 0.5)
        )  # fmt: skip
        mine = rng.sample(service_ids, 2 if rng.random() < 0.2 else 1)
        change_services += [(change_id, s) for s in mine]
        if outcome != "open" and rng.random() < 0.9:
            result = "succeeded" if outcome == "implemented" else rng.choice(("failed", "rolled_back"))
            deployment_rows.append(
                (_uuid(rng), mine[0], "svc", "production", result, change_id, done - timedelta(minutes=20), done, done)
            )
    for _ in range(n_changes // 4):
        at = moment()
        deployment_rows.append(
            (
                _uuid(rng),
                rng.choice(service_ids),
                "svc",
                "staging",
                "succeeded",
                None,
                at,
                at,
                at + timedelta(minutes=20),
            )
        )
    change_table = Table(
        "change_facts",
        ["change_id", "number", "type", "status", "created_at", "implemented_at", "failed_at", "backed_out"],
        change_rows,
    )
    caused = {(rng.choice(change_ids), incident_rows[rng.randrange(incidents)]) for _ in range(n_changes // 13)}
    caused_rows = [(c, i[0], i[4]) for c, i in caused]

    problem_rows = []
    for n, problem_id in enumerate(problems):
        opened = moment()
        status = rng.choices(("new", "investigating", "known_error", "resolved", "closed"), (10, 20, 20, 20, 30))[0]
        known = later(opened, 100) if status in ("known_error", "resolved", "closed") and rng.random() < 0.7 else None
        resolved = later(opened, 400) if status in ("resolved", "closed") else None
        problem_rows.append(
            (problem_id, f"PRB{n:07d}", status, rng.choice(service_ids),
             "recurrence" if rng.random() < 0.4 else "manual", opened, known, resolved,
             rng.choice(change_ids) if resolved and rng.random() < 0.5 else None, rng.randint(1, 20))
        )  # fmt: skip

    findings = [
        (str(_uuid(rng)), "unauthorised_change" if rng.random() < 0.8 else "cmdb_update_rejected",
         rng.choice(cis), None, moment())
        for _ in range(max(10, int(3_000 * scale)))
    ]  # fmt: skip
    contract_ids = [_uuid(rng) for _ in range(2 * n_suppliers)]
    supplier_rows, contract_rows, coverage_rows, attributed = _suppliers(
        suppliers, contract_ids, service_ids, ci_rows, incident_rows, seed
    )
    breach_rows = [
        (str(_uuid(rng)), rng.choice(suppliers), rng.choice(("response", "resolution", "availability")), moment())
        for _ in range(max(10, int(2_000 * scale)))
    ]
    dispute_rows = [
        (_uuid(rng), rng.choice(suppliers), rng.choice(("open", "closed")), moment()) for _ in range(n_suppliers + 10)
    ]
    return DataSet(
        service_ids,
        suppliers,
        attributed,
        [
            incident_table,
            request_table,
            Table(
                "problem_facts",
                [
                    "problem_id",
                    "number",
                    "status",
                    "service_id",
                    "origin",
                    "opened_at",
                    "known_error_at",
                    "resolved_at",
                    "change_id",
                    "incident_count",
                ],
                problem_rows,
            ),
            change_table,
            Table("change_service_facts", ["change_id", "service_id"], change_services),
            Table("change_incident_facts", ["change_id", "incident_id", "service_id"], caused_rows),
            Table(
                "deployment_facts",
                [
                    "deployment_id",
                    "service_id",
                    "service",
                    "environment",
                    "result",
                    "change_id",
                    "started_at",
                    "finished_at",
                    "recorded_at",
                ],
                deployment_rows,
            ),
            ci_table,
            Table("cmdb_finding_facts", ["finding_id", "kind", "ci_id", "change_id", "detected_at"], findings),
            Table(
                "supplier_facts",
                ["supplier_id", "number", "name", "name_stamp", "category", "status", "status_stamp", "created_at"],
                supplier_rows,
            ),
            Table(
                "contract_facts",
                [
                    "contract_id",
                    "supplier_id",
                    "number",
                    "status",
                    "status_stamp",
                    "starts_on",
                    "ends_on",
                    "activated_at",
                    "ended_at",
                ],
                contract_rows,
            ),
            Table(
                "contract_coverage_facts",
                ["contract_id", "item_kind", "item_id", "covered", "covered_stamp", "added_at"],
                coverage_rows,
            ),
            Table("supplier_breach_facts", ["breach_id", "supplier_id", "metric", "occurred_at"], breach_rows),
            Table("dispute_facts", ["dispute_id", "supplier_id", "status", "opened_at"], dispute_rows),
        ],
    )


MID_YEAR = datetime(2026, 5, 1, tzinfo=UTC)
Rows = list[tuple[Any, ...]]


def _suppliers(
    suppliers: list[uuid.UUID],
    contract_ids: list[uuid.UUID],
    services: list[uuid.UUID],
    ci_rows: Rows,
    incident_rows: Rows,
    seed: int,
) -> tuple[Rows, Rows, Rows, dict[uuid.UUID, int]]:
    """Suppliers, their contracts and what the contracts cover, as the projection fills them, and
    the incidents counted toward each supplier.

    Supplier n has contract 2n, active and in force all year (activated 1-23 months before it,
    starting that day, a 3-year term), covering the CIs whose supplier it is (ci_facts.supplier_id,
    ~500 each) and, for n < 3, service n + 1. Contract 2n + 1: for n = 3-5 active from mid-year
    (activated during 2026-05-01) covering service n + 1; for n = 6-9 expired before the year
    (ended_at set) still covering service n + 1 (coverage rows stay when a contract ends); else
    expired covering nothing. About a quarter of the incidents count through coverage (CIs ~17 %,
    services ~9 %), plus the 10 % assigned.
    """
    rng = random.Random(seed + 1)  # apart from the main draws, which the other tables keep
    day = timedelta(days=1)
    supplier_rows: Rows = []
    contract_rows: Rows = []
    coverage_rows: Rows = []
    # (kind, item) -> [(supplier, in force from)] for the contracts in force during the year
    covering: dict[tuple[str, uuid.UUID], list[tuple[uuid.UUID, datetime]]] = {}
    ci_supplier = [(row[0], row[7]) for row in ci_rows if row[7] is not None]
    for n, supplier in enumerate(suppliers):
        created = YEAR_START - timedelta(days=1200 + rng.randint(0, 600))
        supplier_rows.append(
            (supplier, f"SUP{n:07d}", f"Supplier {n:02d}", created, rng.choice(("hosting", "software", "network")),
             "active", created, created)
        )  # fmt: skip
        for k in (0, 1):
            contract_id, number = contract_ids[2 * n + k], f"CTR{2 * n + k:07d}"
            items: list[tuple[str, uuid.UUID]] = []
            ended: datetime | None = None
            if k == 0:
                activated = YEAR_START - timedelta(days=rng.randint(30, 700), seconds=rng.randint(0, 86399))
                items = [("ci", ci) for ci, owner in ci_supplier if owner == supplier]
                items += [("service", services[n + 1])] if n < 3 else []
            elif 3 <= n <= 5:
                activated = MID_YEAR + timedelta(seconds=rng.randint(0, 86399))
                items = [("service", services[n + 1])]
            else:
                activated = YEAR_START - timedelta(days=1200 - rng.randint(0, 200), seconds=rng.randint(0, 86399))
                items = [("service", services[n + 1])] if n <= 9 else []
            starts = activated.replace(hour=0, minute=0, second=0, microsecond=0)
            ends = starts + 1095 * day
            if k == 1 and not 3 <= n <= 5:
                ends = YEAR_START - timedelta(days=rng.randint(1, 60))
                ended = ends
            contract_rows.append(
                (contract_id, supplier, number, "expired" if ended else "active", ended or activated, starts, ends,
                 activated, ended)
            )  # fmt: skip
            coverage_rows += [(contract_id, kind, item, True, activated, activated) for kind, item in items]
            if ended is None:
                for item in items:
                    covering.setdefault(item, []).append((supplier, activated))
    attributed = dict.fromkeys(suppliers, 0)
    for row in incident_rows:
        opened, service, ci, assigned = row[9], row[4], row[6], row[7]
        mine = {assigned} if assigned else set()
        for item in (("ci", ci), ("service", service)):
            mine |= {s for s, since in covering.get(item, ()) if since <= opened}
        for s in mine:
            attributed[s] += 1
    return supplier_rows, contract_rows, coverage_rows, attributed


_EXTRA = ("updated_at", "updated_event")


async def load_postgresql(dsn: str, data: DataSet) -> None:
    """COPY every table, then VACUUM (ANALYZE) (the statistics and visibility map a live database has)."""
    conn = await asyncpg.connect(dsn)
    try:
        for table in data.tables:
            rows = [(*r, STAMP, "bench") for r in table.rows]
            await conn.copy_records_to_table(table.name, records=rows, columns=[*table.columns, *_EXTRA])
        for table in data.tables:
            await conn.execute(f"VACUUM (ANALYZE) {table.name}")
    finally:
        await conn.close()


def _sqlite_value(value: Any) -> Any:
    """As SQLAlchemy stores it on SQLite: UUIDs as 32 hex digits, times as naive UTC text."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def load_sqlite(path: str, data: DataSet) -> None:
    """One executemany per table in one transaction, then ANALYZE."""
    conn = sqlite3.connect(path)
    try:
        for table in data.tables:
            names = [*table.columns, *_EXTRA]
            convert: Callable[[Sequence[Any]], tuple[Any, ...]] = lambda r: tuple(  # noqa: E731
                _sqlite_value(v) for v in (*r, STAMP, "bench")
            )
            sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
            conn.executemany(sql, (convert(r) for r in table.rows))
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()
