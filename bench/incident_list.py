"""The incident list at scale: a page of 50 with the filters agents use, on 1,000,000 incidents
in PostgreSQL, through the real incident service.

1. A database migrated with the incident service's migrations, filled with `--incidents`
   incidents (1,000,000) in one INSERT ... SELECT over generate_series per batch (server side,
   seeded, the same every run): three years of incidents, 70 % closed, 8 % resolved, 2 %
   cancelled, the rest open (new, assigned, in progress, on hold); impact and urgency at random
   with the priority from the default matrix; 60 assignment groups (a few large), 2,000 agents,
   20,000 CIs in 250 services, 20 categories; titles and descriptions from a vocabulary of
   components, symptoms, host names and error codes. The table's indexes (those the
   migrations created) are dropped for the load and created again after it, then
   VACUUM (ANALYZE), the state autovacuum leaves a table in.
2. The service runs as the other benchmarks run it (uvicorn, one process, uvloop, httptools,
   tracing on and not exported). `GET /api/v1/incidents?<filters>&limit=50` one request after
   the other on one keep-alive connection, `--requests` per kind of filter with values drawn at
   random (after 3 unmeasured ones per kind): status and priority, group, assignee, CI, service,
   category, text (a host name, an error code or an incident number); the time from sending to the
   last byte. Each answer is checked: 200, at most 50 items, each matching the filter, newest
   first. Also reported apart: the unfiltered first page, a status alone, and a text search for
   a common word (about 1 incident in 40), which the target does not cover.
3. The same queries through `services.incident.store.incident_queries.list_incidents` in this process on its own
   engine (no HTTP, no auth, no JSON), to tell the database's share from the service's.

    uv run python -m bench.incident_list [--incidents 1000000] [--requests 200] [--json var/incident_list.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench import smoke
from bench.cmdb import wait_until_quiet
from bench.infra import Bench, ServerProcess, asyncpg_dsn, machine_info, print_machine, run_main
from bench.openloop import KeepAliveClient, percentile
from services.incident.settings import IncidentSettings
from services.incident.store import incident_queries as store
from shared.db import create_engine
from shared.migrations import upgrade

TARGET_P95_MS = 50.0
COUNT_LIMIT = IncidentSettings.model_fields["list_count_limit"].default  # what the service runs with
PAGE = 50
GROUPS = 60
AGENTS = 2_000
CIS = 20_000
SERVICES = 250
CATEGORIES = [
    "network", "hardware", "software", "database", "email", "access", "storage", "printing",
    "telephony", "security", "backup", "erp", "crm", "payroll", "web", "mobile", "vpn", "identity",
    "monitoring", "facilities",
]  # fmt: skip
COMPONENTS = [
    "printer", "vpn", "outlook", "teams", "sap", "laptop", "wifi", "sharepoint", "citrix", "oracle",
    "postgres", "jira", "confluence", "payroll", "badge", "phone", "monitor", "docking", "scanner",
    "firewall", "proxy", "dns", "dhcp", "backup", "storage", "kubernetes", "jenkins", "gitlab", "okta",
    "salesforce", "servicenow", "webex", "zoom", "onedrive", "excel", "word", "chrome", "edge",
    "mfa", "ldap",
]  # fmt: skip
SYMPTOMS = [
    "is down", "is slow", "not responding", "keeps crashing", "cannot log in", "access denied",
    "timeout", "error on start", "disk full", "certificate expired", "sync fails", "no sound",
    "blue screen", "license expired", "password locked", "page not loading", "data missing",
    "high cpu", "memory leak", "connection refused", "502 bad gateway", "cannot print",
    "out of toner", "battery drains", "freezes", "update failed", "quota exceeded", "wrong totals",
    "slow queries", "replication lag",
]  # fmt: skip
ERROR_CODES = 5_000
STATUSES = [  # (status, cumulative share)
    ("closed", 0.70),
    ("resolved", 0.78),
    ("cancelled", 0.80),
    ("new", 0.86),
    ("assigned", 0.91),
    ("in_progress", 0.97),
    ("on_hold", 1.00),
]


@dataclass(frozen=True)
class Universe:
    """The values the generated incidents draw from (and the bench's filters too)."""

    ci_ids: list[uuid.UUID]
    service_ids: list[uuid.UUID]
    ci_service: list[int]
    groups: list[str]
    agents: list[str]

    @classmethod
    def build(cls, seed: int) -> Universe:
        rnd = random.Random(seed)
        return cls(
            ci_ids=[uuid.UUID(int=rnd.getrandbits(128), version=4) for _ in range(CIS)],
            service_ids=[uuid.UUID(int=rnd.getrandbits(128), version=4) for _ in range(SERVICES)],
            ci_service=[rnd.randrange(SERVICES) for _ in range(CIS)],
            groups=[f"group-{i:02d}" for i in range(GROUPS)],
            agents=[f"agent{i:04d}@example.com" for i in range(AGENTS)],
        )


def _case(shares: list[tuple[str, float]], var: str) -> str:
    whens = " ".join(f"WHEN {var} < {share} THEN '{value}'" for value, share in shares[:-1])
    return f"CASE {whens} ELSE '{shares[-1][0]}' END"


# Group sizes are skewed: group i gets weight 1/(i+1)^0.8, drawn with an inverse-CDF table.
def _group_cdf() -> list[float]:
    weights = [1 / (i + 1) ** 0.8 for i in range(GROUPS)]
    total, acc, out = sum(weights), 0.0, []
    for w in weights:
        acc += w / total
        out.append(acc)
    return out


INSERT = f"""
WITH base AS (
    SELECT g AS i, random() AS r_status, random() AS r_group, random() AS r_agent, random() AS r_ci,
           random() AS r_cat, random() AS r_comp, random() AS r_sym, random() AS r_code, random() AS r_age,
           1 + floor(random() * 3)::int AS impact, 1 + floor(random() * 3)::int AS urgency,
           random() AS r_channel, random() AS r_major
    FROM generate_series($1::int, $2::int) AS g
), shaped AS (
    SELECT b.*, {_case(STATUSES, "r_status")} AS status,
           1 + floor(r_ci * {CIS})::int AS ci_index,
           (SELECT count(*) FROM unnest($3::float8[]) c WHERE c < b.r_group)::int + 1 AS group_index,
           now() - (r_age * interval '1095 days') AS opened
    FROM base b
)
INSERT INTO incident (
    id, number, title, description, caller, channel, impact, urgency, priority, status, ci_id,
    opened_at, updated_at, version, assignment_group, assignee, resolution_code, resolution_notes,
    first_response_at, resolved_at, closed_at, category, subcategory, service_id, major, closed_by
)
SELECT
    gen_random_uuid(),
    'INC' || lpad(s.i::text, 7, '0'),
    initcap(($6::text[])[1 + floor(s.r_comp * array_length($6::text[], 1))::int]) || ' '
        || ($7::text[])[1 + floor(s.r_sym * array_length($7::text[], 1))::int]
        || ' on app-' || lpad((s.ci_index - 1)::text, 5, '0'),
    'Reported through the portal. Error E' || lpad((floor(s.r_code * {ERROR_CODES}))::int::text, 5, '0')
        || ' shown when the user opens it; several colleagues see the same. Workstation and network checked.',
    'user' || (floor(s.r_agent * 50000))::int || '@example.com',
    (ARRAY['portal', 'phone', 'email', 'monitoring', 'api'])[1 + floor(s.r_channel * 5)::int],
    s.impact, s.urgency,
    (ARRAY[1, 2, 3, 2, 3, 4, 3, 4, 5])[(s.impact - 1) * 3 + s.urgency],
    s.status,
    ($4::uuid[])[s.ci_index],
    s.opened, s.opened + interval '1 hour', 3,
    CASE WHEN s.status = 'new' THEN NULL ELSE ($8::text[])[s.group_index] END,
    CASE WHEN s.status IN ('new', 'assigned') THEN NULL
         ELSE ($9::text[])[1 + floor(s.r_agent * {AGENTS})::int] END,
    CASE WHEN s.status IN ('resolved', 'closed') THEN 'fixed' END,
    '',
    CASE WHEN s.status NOT IN ('new', 'assigned') THEN s.opened + interval '20 minutes' END,
    CASE WHEN s.status IN ('resolved', 'closed') THEN s.opened + interval '5 hours' END,
    CASE WHEN s.status = 'closed' THEN s.opened + interval '3 days' END,
    ($10::text[])[1 + floor(s.r_cat * array_length($10::text[], 1))::int],
    NULL,
    ($5::uuid[])[1 + ($11::int[])[s.ci_index]],
    s.r_major < 0.001,
    CASE WHEN s.status = 'closed' THEN 'caller_confirmed' END
FROM shaped s
"""


async def load(url: str, universe: Universe, count: int, batch: int) -> dict[str, float]:
    """Fill `incident` with `count` rows; seconds per step."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    timings: dict[str, float] = {}
    try:
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'incident'"
            " AND indexname NOT IN ('pk_incident', 'uq_incident_number')"
        )
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        await conn.execute("SELECT setseed(0.20261128)")
        t0 = time.perf_counter()
        args = (
            _group_cdf()[:-1],
            universe.ci_ids,
            universe.service_ids,
            COMPONENTS,
            SYMPTOMS,
            universe.groups,
            universe.agents,
            CATEGORIES,
            universe.ci_service,
        )
        for lo in range(1, count + 1, batch):
            hi = min(count, lo + batch - 1)
            await conn.execute(INSERT, lo, hi, *args)
            print(f"\r  inserted {hi:,} / {count:,}", end="", flush=True)
        print()
        timings["insert_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for row in indexes:
            await conn.execute(row["indexdef"])
        timings["indexes_s"] = time.perf_counter() - t0
        await conn.execute("SELECT setval('incident_number_seq', $1)", count)
        t0 = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) incident")
        timings["vacuum_analyze_s"] = time.perf_counter() - t0
        timings["table_mb"] = (await conn.fetchval("SELECT pg_total_relation_size('incident')")) / 2**20
    finally:
        await conn.close()
    return timings


# ---------------------------------------------------------------------------- the queries

Check = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class Query:
    kind: str
    params: dict[str, str]
    check: Check


def queries(universe: Universe, rnd: random.Random, count: int, per_kind: int) -> dict[str, list[Query]]:
    def status_priority() -> Query:
        status = rnd.choice(["new", "assigned", "in_progress", "on_hold", "resolved"])
        priority = rnd.randint(1, 5)
        return Query(
            "status+priority",
            {"status": status, "priority": str(priority)},
            lambda i: i["status"] == status and i["priority"] == priority,
        )

    def group() -> Query:
        g = rnd.choice(universe.groups)
        return Query("group", {"assignment_group": g}, lambda i: i["assignment_group"] == g)

    def assignee() -> Query:
        a = rnd.choice(universe.agents)
        return Query("assignee", {"assignee": a}, lambda i: i["assignee"] == a)

    def ci() -> Query:
        c = str(rnd.choice(universe.ci_ids))
        return Query("ci", {"ci_id": c}, lambda i: i["ci_id"] == c)

    def service() -> Query:
        s = str(rnd.choice(universe.service_ids))
        return Query("service", {"service_id": s}, lambda i: i["service_id"] == s)

    def category() -> Query:
        c = rnd.choice(CATEGORIES)
        return Query("category", {"category": c}, lambda i: i["category"] == c)

    def text() -> Query:
        pick = rnd.random()
        if pick < 0.4:
            term = f"app-{rnd.randrange(CIS):05d}"
        elif pick < 0.8:
            term = f"E{rnd.randrange(ERROR_CODES):05d}"
        else:
            term = f"INC{rnd.randint(1, count):07d}"
        low = term.lower()
        return Query(
            "text",
            {"q": term},
            lambda i: low in i["title"].lower() or low in i["description"].lower() or i["number"] == term,
        )

    def everything() -> Query:
        return Query("no filter", {}, lambda i: True)

    def status_alone() -> Query:
        s = rnd.choice(["new", "in_progress", "resolved", "closed"])
        return Query("status alone", {"status": s}, lambda i: i["status"] == s)

    def common_word() -> Query:
        word = rnd.choice(COMPONENTS)
        return Query("text, common word", {"q": word}, lambda i: word in (i["title"] + i["description"]).lower())

    typical = [status_priority, group, assignee, ci, service, category, text]
    extra = [everything, status_alone, common_word]
    return {
        "typical": [make() for make in typical for _ in range(per_kind)],
        "extra": [make() for make in extra for _ in range(max(20, per_kind // 4))],
    }


def _check_page(query: Query, body: dict[str, Any]) -> str | None:
    items = body["items"]
    if len(items) > PAGE:
        return f"{query.kind} {query.params}: {len(items)} items"
    if not all(query.check(i) for i in items):
        return f"{query.kind} {query.params}: an item does not match"
    opened = [i["opened_at"] for i in items]
    if opened != sorted(opened, reverse=True):
        return f"{query.kind} {query.params}: not newest first"
    if body["total"] < len(items):
        return f"{query.kind} {query.params}: total {body['total']} < {len(items)}"
    return None


async def measure_http(server: ServerProcess, token: str, plan: list[Query]) -> tuple[list[dict[str, Any]], list[str]]:
    client = KeepAliveClient("127.0.0.1", server.port, timeout_s=30)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    samples: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        for kind in dict.fromkeys(q.kind for q in plan):  # 3 unmeasured requests per kind
            for q in [q for q in plan if q.kind == kind][:3]:
                await client.send(client.request_bytes("GET", _path(q), headers=headers))
        for q in plan:
            raw = client.request_bytes("GET", _path(q), headers=headers)
            t0 = time.perf_counter()
            answer = await client.send(raw)
            ms = (time.perf_counter() - t0) * 1000
            if answer.status != 200:
                problems.append(f"{q.kind} {q.params}: HTTP {answer.status} {answer.body[:200]!r}")
                continue
            body = json.loads(answer.body)
            if (problem := _check_page(q, body)) is not None:
                problems.append(problem)
            samples.append(
                {
                    "kind": q.kind,
                    "ms": ms,
                    "total": body["total"],
                    "exact": body["total_exact"],
                    "items": len(body["items"]),
                }
            )
    finally:
        await client.close()
    return samples, problems


def _path(q: Query) -> str:
    return "/api/v1/incidents?" + urllib.parse.urlencode({**q.params, "limit": PAGE})


async def measure_store(url: str, plan: list[Query]) -> list[dict[str, Any]]:
    engine = create_engine(url)
    samples: list[dict[str, Any]] = []
    names = {"q": "text"}
    try:
        async with engine.connect() as conn:
            for warm, todo in ((True, plan[:: max(1, len(plan) // 20)]), (False, plan)):
                for q in todo:
                    kwargs: dict[str, Any] = {names.get(k, k): v for k, v in q.params.items()}
                    if "priority" in kwargs:
                        kwargs["priority"] = int(kwargs["priority"])
                    for key in ("ci_id", "service_id"):
                        if key in kwargs:
                            kwargs[key] = uuid.UUID(kwargs[key])
                    kwargs.setdefault("status", None)
                    kwargs.setdefault("priority", None)
                    t0 = time.perf_counter()
                    await store.list_incidents(conn, limit=PAGE, offset=0, count_limit=COUNT_LIMIT, **kwargs)
                    if not warm:
                        samples.append({"kind": q.kind, "ms": (time.perf_counter() - t0) * 1000})
    finally:
        await engine.dispose()
    return samples


def summarise(samples: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for s in samples:
        by_kind.setdefault(s["kind"], []).append(s)
    out: dict[str, dict[str, float]] = {}
    for kind, group in [*by_kind.items(), ("all of these", samples)]:
        ms = [s["ms"] for s in group]
        row = {
            "n": len(ms),
            "p50": percentile(ms, 50),
            "p95": percentile(ms, 95),
            "p99": percentile(ms, 99),
            "max": max(ms),
        }
        if "total" in group[0]:
            row["median_total"] = statistics.median(s["total"] for s in group)
            row["counted_in_full"] = sum(1 for s in group if s["exact"]) / len(group)
        out[kind] = row
    return out


def print_summary(title: str, table: dict[str, dict[str, float]], store_table: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(
        "| filter | requests | total (median) | counted in full | p50 ms | p95 ms | p99 ms | max ms"
        " | store alone p50 / p95 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, row in table.items():
        alone = store_table.get(kind)
        alone_text = f"{alone['p50']:.1f} / {alone['p95']:.1f}" if alone else ""
        print(
            f"| {kind} | {row['n']} | {row.get('median_total', 0):,.0f} | {row.get('counted_in_full', 1):.0%}"
            f" | {row['p50']:.1f} | {row['p95']:.1f}"
            f" | {row['p99']:.1f} | {row['max']:.1f} | {alone_text} |"
        )


async def _main(args: argparse.Namespace) -> int:
    bench = Bench()
    results: dict[str, Any] = {"command": " ".join(["uv run python -m bench.incident_list", *sys.argv[1:]])}
    problems: list[str] = []
    completed = False
    server: ServerProcess | None = None
    try:
        results["machine"] = await machine_info(bench)
        print_machine(results["machine"])
        universe = Universe.build(args.seed)
        db = f"bench_{bench.run_id}_incident"
        await bench._admin(f'CREATE DATABASE "{db}"')
        bench.databases.append(db)
        url = bench.database_url(db)
        await asyncio.to_thread(upgrade, "incident", url)
        print(f"loading {args.incidents:,} incidents into {db}", flush=True)
        results["load"] = await load(url, universe, args.incidents, args.batch)
        print("loaded: " + ", ".join(f"{k} {v:.1f}" for k, v in results["load"].items()), flush=True)

        server = ServerProcess(
            "incident", "services.incident.app:create_app", bench.service_env("incident", url), bench.workdir
        )
        # The list needs the database only: with --no-broker the service's relay and consumer
        # keep retrying the (absent) broker in the background, and readiness is the process up.
        await server.wait_ready("/healthz" if args.no_broker else "/readyz")
        print(f"incident service: {' '.join(server.command[1:])}  (OTEL_TRACES_EXPORTER=none, tracing on)")
        plan = queries(universe, random.Random(args.seed), args.incidents, args.requests)
        waited = await wait_until_quiet("the list requests", args.quiet_wait)
        results["quiet"] = {"waited_s": waited, "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg())}
        print(f"load average before measuring: {results['quiet']['loadavg']}", flush=True)
        started = datetime.now(UTC)
        typical, bad = await measure_http(server, bench.token("agent"), plan["typical"])
        extra, bad_extra = await measure_http(server, bench.token("agent"), plan["extra"])
        problems += bad + bad_extra
        results["http_s"] = (datetime.now(UTC) - started) / timedelta(seconds=1)
        store_typical = await measure_store(url, plan["typical"])
        store_extra = await measure_store(url, plan["extra"])
        results["typical"] = summarise(typical)
        results["extra"] = summarise(extra)
        results["store_typical"] = summarise(store_typical)
        results["store_extra"] = summarise(store_extra)
        completed = True
    finally:
        if server is not None:
            await server.stop()
        await bench.cleanup(keep_logs=not completed or bool(problems))

    print_summary(
        f"GET /api/v1/incidents?...&limit={PAGE} on {args.incidents:,} incidents, the typical filters",
        results["typical"],
        results["store_typical"],
    )
    print_summary("beyond the target (reported, not covered)", results["extra"], results["store_extra"])
    p95 = results["typical"]["all of these"]["p95"]
    worst = max(row["p95"] for kind, row in results["typical"].items() if kind != "all of these")
    print(f"\np95 over the typical filters {p95:.1f} ms")
    verdict = smoke.verdict(worst < TARGET_P95_MS, args)
    print(f"TARGET every typical filter's p95 < {TARGET_P95_MS:.0f} ms: worst {worst:.1f} ms, {verdict}")
    for problem in problems:
        print("PROBLEM:", problem)
    results["problems"] = problems
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=2, default=str) + "\n")
        print(f"results written to {args.json}")
    return smoke.finish(problems, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000, help="rows per INSERT ... SELECT")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per kind of filter")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--quiet-wait", type=float, default=600.0, help="at most this long waiting for other work")
    parser.add_argument(
        "--no-broker",
        action="store_true",
        help="do not wait for the broker (point BENCH_AMQP_URL at a closed port when RabbitMQ is unavailable)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    args = smoke.parse_args(parser, incidents=5000, batch=5000, requests=3, quiet_wait=0.0)
    sys.exit(run_main(lambda: _main(args)))


if __name__ == "__main__":
    main()
