"""Reporting at scale: projection throughput through RabbitMQ, and every report over 1,000,000 incidents.

1. Throughput: `--events` events (incident lifecycles: created, assigned, resolved with SLA
   results; a change lifecycle for every tenth) are published to the run's exchange, which routes
   each to two queues: the reporting queue (declared as the service declares it) and a bare queue.
   With both full, (a) a bare aio-pika consumer that only acknowledges drains the bare queue, and
   (b) the reporting service's worker (`ServiceRuntime`: its consumer in batching mode, as
   configured by default, writing the event log, inbox and fact tables) drains the reporting
   queue, in this process, one after the other. Events/s of each, and the ratio (targets: >= 0.3
   and >= 2,000 events/s). `--rounds` rounds with fresh events; medians. Every event must be in
   the event log and the inbox exactly once at the end.
2. Every report over a year of a large enterprise (`bench/reporting_data.py`: `--incidents`
   1,000,000 incident fact rows and in proportion ~100,000 requests, ~20,000 changes with their
   deployments, ~2,000 problems, ~50,000 CIs, findings, 20 suppliers with contracts covering CIs
   and services), bulk-loaded with COPY into a migrated reporting database, `VACUUM (ANALYZE)`,
   then `usecases.produce(<report>)` (the queries and the shaping into rows, as the API runs it,
   without HTTP, `now` = the end of the year) for the whole year, with and without a service
   filter, and for service-levels, incidents, hot spots and suppliers with one supplier's filter
   (service-levels also one month by week and no filter): median and max of `--runs` runs after
   a warm-up, each on a fresh connection (targets: < 1 s every report, < 500 ms service-levels).
   `--sqlite`: the same on a SQLite file. The incident reports must count every incident of the
   data set, and the supplier cases the incidents counted toward each supplier.

No tracing is configured in this process (no instrumentation, no spans). The run's databases,
exchange and queues are removed at the end.

    uv run python -m bench.reporting [--parts throughput,reports] [--events 20000] [--rounds 3]
        [--incidents 1000000] [--runs 5] [--reports incidents,hotspots] [--sqlite] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import smoke
from bench.infra import Bench, asyncpg_dsn, machine_info, print_machine, run_main
from bench.reporting_data import YEAR_END, YEAR_START, generate, load_postgresql, load_sqlite
from services.reporting.app import SPEC
from services.reporting.domain.definitions import DEFINITIONS
from services.reporting.domain.report_filters import ReportFilters
from services.reporting.settings import ReportingSettings
from services.reporting.store import tables as store
from services.reporting.usecases import reports as usecases
from shared.db import create_engine
from shared.events import CloudEvent, new_event
from shared.events.change import ChangeCreated, ChangeImplemented
from shared.events.incident import IncidentAssigned, IncidentCreated, IncidentResolved, SlaResult
from shared.messaging import declare_exchange, declare_service_queues
from shared.migrations import upgrade
from shared.runtime import ServiceRuntime
from shared.uow import UnitOfWork

TARGET_RATIO = 0.3
TARGET_RATE = 2000.0
TARGET_REPORT_MS = 1000.0
TARGET_SLA_MS = 500.0
SERVICES = [uuid.uuid4() for _ in range(50)]


def lifecycle_events(count: int, rng: random.Random) -> list[CloudEvent]:
    events: list[CloudEvent] = []
    start = datetime(2026, 10, 1, tzinfo=UTC)
    n = 0
    while len(events) < count:
        n += 1
        opened = start + timedelta(seconds=rng.randint(0, 30 * 86400))
        incident_id, number, priority = uuid.uuid4(), f"INC{n:07d}", rng.randint(1, 5)
        service = rng.choice(SERVICES)
        created = IncidentCreated(
            incident_id=incident_id, number=number, title="bench", impact=2, urgency=2, priority=priority,
            caller="bench", opened_at=opened, service_id=service,
        )  # fmt: skip
        common = {
            "incident_id": incident_id, "number": number, "priority": priority, "actor": "bench",
            "service_id": service, "assignment_group": f"group{n % 7}",
        }  # fmt: skip
        assigned = IncidentAssigned(
            **common, status="assigned", previous_status="new", occurred_at=opened + timedelta(minutes=5)
        )
        resolved_at = opened + timedelta(hours=rng.randint(1, 48))
        sla = [
            SlaResult(target="response", target_business_s=900, elapsed_business_s=300, met=rng.random() < 0.9),
            SlaResult(target="resolution", target_business_s=3600, elapsed_business_s=3000, met=rng.random() < 0.8),
        ]
        resolved = IncidentResolved(
            **common, status="resolved", previous_status="assigned", occurred_at=resolved_at,
            resolution_code="fixed", resolved_at=resolved_at, opened_at=opened, sla=sla,
        )  # fmt: skip
        for data in (created, assigned, resolved):
            events.append(new_event(data, source="/itsm/incident", subject=str(incident_id)))
        if n % 10 == 0:
            change_id = uuid.uuid4()
            created_change = ChangeCreated(
                change_id=change_id, number=f"CHG{n:07d}", title="bench", type="normal", status="draft",
                requester="bench", created_at=opened,
            )  # fmt: skip
            implemented = ChangeImplemented(
                change_id=change_id, number=f"CHG{n:07d}", implemented_at=opened + timedelta(days=1),
                implemented_by="bench", type="normal", created_at=opened, service_ids=[service],
            )  # fmt: skip
            for data in (created_change, implemented):
                events.append(new_event(data, source="/itsm/change", subject=str(change_id)))
    return events[:count]


async def publish(bench: Bench, events: list[CloudEvent]) -> float:
    connection = await aio_pika.connect(bench.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_exchange(channel, bench.exchange)
        started = time.perf_counter()
        for i in range(0, len(events), 500):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            e.model_dump_json().encode(),
                            message_id=str(e.id),
                            content_type="application/cloudevents+json",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=e.routing_key,
                    )
                    for e in events[i : i + 500]
                )
            )
        return time.perf_counter() - started


async def queue_depth(bench: Bench, name: str) -> int:
    connection = await aio_pika.connect(bench.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)


async def wait_depth(bench: Bench, name: str, expected: int) -> None:
    deadline = time.monotonic() + 120
    while await queue_depth(bench, name) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} never held {expected} messages")
        await asyncio.sleep(0.2)


async def bare_consume(bench: Bench, name: str, count: int, prefetch: int) -> float:
    """Only acknowledge: the floor of what any consumer can do on this machine."""
    connection = await aio_pika.connect(bench.amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.declare_queue(name, passive=True)
        done = asyncio.Event()
        seen = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal seen
            await message.ack()
            seen += 1
            if seen >= count:
                done.set()

        started = time.perf_counter()
        tag = await queue.consume(on_message)
        await asyncio.wait_for(done.wait(), 300)
        elapsed = time.perf_counter() - started
        await queue.cancel(tag)
        return elapsed


async def reporting_consume(settings: ReportingSettings, count: int) -> float:
    runtime = ServiceRuntime(SPEC, settings, run_worker=True)
    await runtime.start()
    try:
        assert runtime.consumer is not None
        while not runtime.consumer.is_attached:  # noqa: ASYNC110 - the clock starts when deliveries can
            await asyncio.sleep(0.001)
        started = time.perf_counter()
        deadline = time.monotonic() + 600
        while runtime.consumer.stats.processed + runtime.consumer.stats.duplicates < count:
            if time.monotonic() > deadline:
                raise RuntimeError("reporting did not drain its queue in time")
            await asyncio.sleep(0.01)
        return time.perf_counter() - started
    finally:
        await runtime.stop()


async def throughput(bench: Bench, events_per_round: int, rounds: int) -> dict[str, Any]:
    url = await bench.create_database("reporting", "reporting")
    settings = ReportingSettings(
        database_url=url,
        amqp_url=bench.amqp_url,
        events_exchange=bench.exchange,
        queue_prefix=bench.queue_prefix,
        environment="test",
        log_level="WARNING",
    )
    bench.consumers += ["reporting", "bare"]
    reporting_queue, bare_queue = bench.queue_prefix + "reporting", bench.queue_prefix + "bare"
    connection = await aio_pika.connect(bench.amqp_url)
    async with connection:
        channel = await connection.channel()
        await declare_service_queues(
            channel,
            exchange_name=bench.exchange,
            queue_name=reporting_queue,
            binding_keys=["#"],
            retry_delay_ms=settings.retry_delay_ms,
        )
        exchange = await declare_exchange(channel, bench.exchange)
        bare = await channel.declare_queue(bare_queue, durable=True, arguments={"x-queue-type": "quorum"})
        await bare.bind(exchange, routing_key="#")
    rng = random.Random(7)
    results = []
    for r in range(rounds):
        events = lifecycle_events(events_per_round, rng)
        publish_s = await publish(bench, events)
        await wait_depth(bench, reporting_queue, len(events))
        await wait_depth(bench, bare_queue, len(events))
        bare_s = await bare_consume(bench, bare_queue, len(events), settings.prefetch)
        reporting_s = await reporting_consume(settings, len(events))
        row = {
            "round": r + 1,
            "events": len(events),
            "publish_per_s": round(len(events) / publish_s),
            "bare_per_s": round(len(events) / bare_s),
            "reporting_per_s": round(len(events) / reporting_s),
        }
        row["ratio"] = round(row["reporting_per_s"] / row["bare_per_s"], 3)
        results.append(row)
        print(
            f"  round {r + 1}: {len(events)} events; bare {row['bare_per_s']}/s, reporting "
            f"{row['reporting_per_s']}/s, ratio {row['ratio']} (published at {row['publish_per_s']}/s)"
        )
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        logged = await conn.fetchval("SELECT count(*) FROM event_log")
        claimed = await conn.fetchval("SELECT count(*) FROM inbox")
        duplicates = await conn.fetchval(
            "SELECT count(*) FROM (SELECT event_id FROM inbox GROUP BY event_id HAVING count(*) > 1) d"
        )
    finally:
        await conn.close()
    expected = events_per_round * rounds
    ok = logged == expected and claimed == expected and duplicates == 0
    return {
        "rounds": results,
        "median_bare_per_s": statistics.median(r["bare_per_s"] for r in results),
        "median_reporting_per_s": statistics.median(r["reporting_per_s"] for r in results),
        "median_ratio": statistics.median(r["ratio"] for r in results),
        "event_log_rows": logged,
        "inbox_rows": claimed,
        "every_event_once": ok,
        "batch_size": settings.consumer_batch_size,
        "prefetch": settings.prefetch,
    }


REPORT_CASES = ("year", "year, one service", "year, one supplier")
# The reports with a supplier filter timed (the incidents counted toward one supplier: assigned to
# it, or on a CI or service one of its contracts covered when the incident opened).
SUPPLIER_CASE = {"service-levels", "incidents", "hotspots", "suppliers"}


def _cases(services: list[uuid.UUID], supplier: uuid.UUID, name: str) -> dict[str, ReportFilters]:
    year = {"start": YEAR_START, "end": YEAR_END}
    cases = {"year": ReportFilters(**year), "year, one service": ReportFilters(**year, service_id=services[0])}
    if name in SUPPLIER_CASE:
        cases["year, one supplier"] = ReportFilters(**year, supplier_id=supplier)
    return cases


async def _time(engine: AsyncEngine, name: str, filters: ReportFilters, runs: int) -> tuple[list[float], Any]:
    """`runs` timings (ms) of `usecases.produce` after one warm-up, each on a fresh connection."""
    timings: list[float] = []
    report = None
    for i in range(runs + 1):
        async with engine.connect() as conn:
            started = time.perf_counter()
            report = await usecases.produce(conn, name, filters, now=YEAR_END)
            elapsed = (time.perf_counter() - started) * 1000
        if i:  # the first is a warm-up
            timings.append(elapsed)
    return timings, report


async def time_reports(
    engine: AsyncEngine,
    incidents: int,
    services: list[uuid.UUID],
    attributed: dict[uuid.UUID, int],
    runs: int,
    only: set[str] | None,
) -> dict[str, Any]:
    """Every report, year filter with and without a service filter, and with a supplier filter
    where it counts (+ the service-levels cases of the earlier runs); checks that the incident
    reports count every incident of the data set, and the supplier cases the incidents counted
    toward each supplier (`attributed`, computed with the data set)."""
    supplier = next(iter(attributed))
    extra = {
        "one month by week": ReportFilters(
            start=datetime(2026, 5, 1, tzinfo=UTC), end=datetime(2026, 6, 1, tzinfo=UTC), period="week"
        ),
        "no filters (all, by month)": ReportFilters(),
    }
    figures: dict[str, dict[str, Any]] = {}
    checks: dict[str, bool] = {}
    for d in DEFINITIONS:
        if only and d.name not in only:
            continue
        mine = _cases(services, supplier, d.name) | (extra if d.name == "service-levels" else {})
        for case, filters in mine.items():
            timings, report = await _time(engine, d.name, filters, runs)
            figure = {
                "median_ms": round(statistics.median(timings), 1),
                "max_ms": round(max(timings), 1),
                "rows": len(report.rows),
            }
            figures.setdefault(d.name, {})[case] = figure
            print(f"  {d.name:15} {case:27} median {figure['median_ms']:8.1f} ms  max {figure['max_ms']:8.1f} ms"
                  f"  ({figure['rows']} rows)", flush=True)  # fmt: skip
            if case == "year" and d.name == "incidents":
                checks["incidents: every incident opened"] = report.totals["opened"] == incidents
            if case == "year" and d.name == "hotspots":
                t = report.totals
                checks["hotspots: every incident"] = t["incidents_on_cis"] + t["incidents_without_ci"] == incidents
            if case == "no filters (all, by month)":
                checks["service-levels: every incident"] = sum(r["incidents"] for r in report.rows) == incidents
            if case == "year" and d.name == "suppliers":
                counted = {r["supplier_id"]: r["incidents"] for r in report.rows}
                checks["suppliers: incidents counted toward each"] = counted == {
                    str(s): n for s, n in attributed.items()
                }
            if case == "year, one supplier":
                checks[f"{d.name}: one supplier's incidents"] = _supplier_total(d.name, report) == attributed[supplier]
    return {"figures": figures, "checks": checks}


def _supplier_total(name: str, report: Any) -> int:
    """The incidents a report filtered by one supplier counted."""
    if name == "incidents":
        return int(report.totals["opened"])
    if name == "hotspots":
        return int(report.totals["incidents_on_cis"] + report.totals["incidents_without_ci"])
    return sum(int(r["incidents"]) for r in report.rows)


async def merge_service_level_days(engine: AsyncEngine) -> None:
    """What the worker's `service-level-days` job does within a minute of the load (the triggers
    wrote a change row per incident loaded), and autovacuum after it."""
    compact = getattr(usecases, "compact_service_level_days", None)
    if compact is None:  # the code before the daily figures (a run on it, for comparison)
        return
    started = time.perf_counter()
    await compact(lambda: UnitOfWork(engine, store.outbox, source="/itsm/reporting"))
    if engine.dialect.name == "postgresql":  # as autovacuum does after the merge deleted every change row
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM (ANALYZE) service_level_day, service_level_day_change")
    print(f"  merged the daily service-level figures in {time.perf_counter() - started:.1f} s", flush=True)


def print_table(title: str, figures: dict[str, dict[str, Any]]) -> None:
    print(f"\n{title}\n| report | " + " | ".join(f"{c}: median / max ms" for c in REPORT_CASES) + " |")
    print("|---|" + "---:|" * len(REPORT_CASES))
    for name, cases in figures.items():
        cells = [f"{cases[c]['median_ms']:.0f} / {cases[c]['max_ms']:.0f}" if c in cases else "" for c in REPORT_CASES]
        print(f"| {name} | {' | '.join(cells)} |")


async def reports(bench: Bench, count: int, runs: int, *, sqlite: bool, only: set[str] | None) -> dict[str, Any]:
    data = await asyncio.to_thread(generate, count)
    sizes = {t.name: len(t.rows) for t in data.tables}
    print(f"  data set: {sizes}")
    urls = {"postgresql": await bench.create_database("reports", "reporting")}
    started = time.perf_counter()
    await load_postgresql(asyncpg_dsn(urls["postgresql"]), data)
    print(f"  PostgreSQL: loaded (COPY + VACUUM ANALYZE) in {time.perf_counter() - started:.1f} s", flush=True)
    if sqlite:
        path = bench.workdir / "reporting.db"
        urls["sqlite"] = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(upgrade, "reporting", urls["sqlite"])
        started = time.perf_counter()
        await asyncio.to_thread(load_sqlite, str(path), data)
        print(f"  SQLite: loaded in {time.perf_counter() - started:.1f} s", flush=True)
    # Millions of generated objects left in this process would make each garbage collection during
    # a report a full pass over them (a second added to some runs): drop them before timing.
    services, attributed = data.services, data.attributed
    print(f"  incidents counted toward each supplier: {sorted(attributed.values(), reverse=True)}")
    del data
    gc.collect()
    out: dict[str, Any] = {"sizes": sizes, "runs": runs}
    for database, url in urls.items():
        engine = create_engine(url)
        try:
            await merge_service_level_days(engine)
            out[database] = await time_reports(engine, sizes["incident_facts"], services, attributed, runs, only)
        finally:
            await engine.dispose()
        print_table("PostgreSQL" if database == "postgresql" else "SQLite", out[database]["figures"])
    return out


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="throughput,reports", help="throughput, reports, or both (default)")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per report and case (after a warm-up)")
    parser.add_argument("--reports", default="", help="only these reports (comma-separated names)")
    parser.add_argument("--sqlite", action="store_true", help="time the reports on SQLite too")
    parser.add_argument("--json", type=Path)
    args = smoke.parse_args(parser, events=500, rounds=1, incidents=2000, runs=1)
    parts = set(args.parts.split(","))
    bench = Bench()
    info = await machine_info(bench)
    print_machine(info)
    failed = False
    result: dict[str, Any] = {"machine": info}
    try:
        if "throughput" in parts:
            print(f"1. projection throughput ({args.events} events per round, {args.rounds} rounds)")
            tp = await throughput(bench, args.events, args.rounds)
            print(
                f"  median: bare {tp['median_bare_per_s']}/s, reporting {tp['median_reporting_per_s']}/s,"
                f" ratio {tp['median_ratio']}; every event once: {tp['every_event_once']}"
            )
            ratio_met = smoke.verdict(tp["median_ratio"] >= TARGET_RATIO, args)
            rate_met = smoke.verdict(tp["median_reporting_per_s"] >= TARGET_RATE, args)
            print(
                f"TARGET projection, reporting / bare consumer in the same run >= {TARGET_RATIO}:"
                f" {tp['median_ratio']}, {ratio_met}"
            )
            print(f"TARGET projection >= {TARGET_RATE:.0f} events/s: {tp['median_reporting_per_s']}/s, {rate_met}")
            result["throughput"] = tp
            failed |= not tp["every_event_once"]
        if "reports" in parts:
            print(f"2. every report over {args.incidents} incidents (and the rest of the year's facts)")
            only = {r for r in args.reports.split(",") if r} or None
            rp = await reports(bench, args.incidents, args.runs, sqlite=args.sqlite, only=only)
            figures = rp["postgresql"]["figures"]
            slow = {
                f"{name} ({case})": c["median_ms"]
                for name, cases in figures.items()
                for case, c in cases.items()
                if c["median_ms"] >= (TARGET_SLA_MS if name == "service-levels" else TARGET_REPORT_MS)
            }
            print(
                f"\nTARGET every report's median < {TARGET_REPORT_MS:.0f} ms (service-levels < {TARGET_SLA_MS:.0f} ms)"
                f" on PostgreSQL: over it {slow or 'none'}, {smoke.verdict(not slow, args)}"
            )
            checks = {
                f"{db}: {k}": v for db in ("postgresql", "sqlite") if db in rp for k, v in rp[db]["checks"].items()
            }
            print(f"  checks: {checks}")
            result["reports"] = rp
            failed |= not all(checks.values())
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=2))
    finally:
        await bench.cleanup()
    return smoke.finish(int(failed), args)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
