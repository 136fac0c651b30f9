"""Reporting at scale: projection throughput through RabbitMQ, and the SLA report over 1,000,000 incidents.

1. Throughput: `--events` events (incident lifecycles: created, assigned, resolved with SLA
   results; a change lifecycle for every tenth) are published to the run's exchange, which routes
   each to two queues: the reporting queue (declared as the service declares it) and a bare queue.
   With both full, (a) a bare aio-pika consumer that only acknowledges drains the bare queue, and
   (b) the reporting service's worker (`ServiceRuntime`: its consumer in batching mode, as
   configured by default, writing the event log, inbox and fact tables) drains the reporting
   queue, in this process, one after the other. Events/s of each, and the ratio (targets: >= 0.3
   and >= 2,000 events/s). `--rounds` rounds with fresh events; medians. Every event must be in
   the event log and the inbox exactly once at the end.
2. The service-levels report over `--incidents` (1,000,000) incident fact rows, bulk-loaded with
   COPY into a migrated reporting database (a year of incidents, 50 services, 5,000 CIs, 5 priorities,
   SLA results with some unmeasured, one in twenty assigned to one of 10 suppliers; each supplier
   has two contracts, one in force all year and one from mid-year, covering 10 CIs and a service
   between them), `VACUUM (ANALYZE)`, then `usecases.produce("service-levels")` (the query and the
   folding into rows, as the API runs it, without HTTP) for the whole year by month, one month,
   one service and one supplier (assigned to it, or on a CI or service its contracts cover): median
   and max of 7 runs after a warm-up (target < 500 ms). Also timed, without a target: the suppliers
   report (scorecards of the 10 suppliers) over the same incidents.

No tracing is configured in this process (no instrumentation, no spans). The run's databases,
exchange and queues are removed at the end.

    uv run python -m bench.reporting [--events 20000] [--rounds 3] [--incidents 1000000] [--json FILE]

`--events 0` skips part 1, `--incidents 0` part 2.
"""

from __future__ import annotations

import argparse
import asyncio
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
from sqlalchemy import func, select

from bench.infra import Bench, asyncpg_dsn, machine_info, print_machine, run_main
from services.reporting import store, usecases
from services.reporting.app import SPEC
from services.reporting.domain.definitions import ReportFilters
from services.reporting.settings import ReportingSettings
from shared.db import create_engine
from shared.events import CloudEvent, new_event
from shared.events.change import ChangeCreated, ChangeImplemented
from shared.events.incident import IncidentAssigned, IncidentCreated, IncidentResolved, SlaResult
from shared.messaging import declare_exchange, declare_service_queues
from shared.runtime import ServiceRuntime

TARGET_RATIO = 0.3
TARGET_RATE = 2000.0
TARGET_REPORT_MS = 500.0
SERVICES = [uuid.uuid4() for _ in range(50)]
SUPPLIERS = [uuid.uuid4() for _ in range(10)]
CIS = [uuid.uuid4() for _ in range(5000)]


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


async def load_incidents(url: str, count: int) -> float:
    rng = random.Random(11)
    year_start = datetime(2025, 11, 1, tzinfo=UTC)
    groups = [f"group{i}" for i in range(12)]
    stamp = datetime(2026, 11, 1, tzinfo=UTC)

    def met(p_null: float, p_met: float) -> bool | None:
        x = rng.random()
        return None if x < p_null else x < p_null + (1 - p_null) * p_met

    def records() -> list[tuple[Any, ...]]:
        rows = []
        for n in range(count):
            opened = year_start + timedelta(seconds=rng.randint(0, 365 * 86400))
            rows.append(
                (
                    uuid.uuid4(), f"INC{n:07d}", "closed", rng.randint(1, 5), rng.choice(SERVICES),
                    rng.choice(CIS), rng.choice(SUPPLIERS) if rng.random() < 0.05 else None,
                    rng.choice(groups), opened, met(0.05, 0.9), met(0.1, 0.8), stamp, "bench",
                )
            )  # fmt: skip
        return rows

    columns = [
        "incident_id", "number", "status", "priority", "service_id", "ci_id", "supplier_id", "assignment_group",
        "opened_at",
        "response_met", "resolution_met", "updated_at", "updated_event",
    ]  # fmt: skip
    rows = await asyncio.to_thread(records)
    contracts, coverage = supplier_contracts(year_start, stamp)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        started = time.perf_counter()
        await conn.copy_records_to_table("incident_facts", records=rows, columns=columns)
        await conn.copy_records_to_table("contract_facts", records=contracts, columns=list(CONTRACT_COLUMNS))
        await conn.copy_records_to_table("contract_coverage_facts", records=coverage, columns=list(COVERAGE_COLUMNS))
        await conn.execute("VACUUM (ANALYZE) incident_facts, contract_facts, contract_coverage_facts")
        return time.perf_counter() - started
    finally:
        await conn.close()


CONTRACT_COLUMNS = (
    "contract_id", "supplier_id", "number", "status", "status_stamp", "starts_on", "ends_on", "activated_at",
    "updated_at", "updated_event",
)  # fmt: skip
COVERAGE_COLUMNS = (
    "contract_id", "item_kind", "item_id", "covered", "covered_stamp", "added_at", "updated_at", "updated_event",
)  # fmt: skip


def supplier_contracts(year_start: datetime, stamp: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Per supplier: a contract in force all year covering 5 CIs and a service, and one from
    mid-year covering 5 other CIs."""
    contracts: list[tuple[Any, ...]] = []
    coverage: list[tuple[Any, ...]] = []
    for n, supplier in enumerate(SUPPLIERS):
        for half, starts in enumerate((year_start, year_start + timedelta(days=182))):
            contract_id = uuid.uuid4()
            number, ends = f"CTR{2 * n + half:07d}", starts + timedelta(days=730)
            contracts.append((contract_id, supplier, number, "active", starts, starts, ends, starts, stamp, "bench"))
            items = [("ci", ci) for ci in CIS[10 * n + 5 * half : 10 * n + 5 * half + 5]]
            if half == 0:
                items.append(("service", SERVICES[n + 1]))
            coverage += [(contract_id, kind, item, True, starts, starts, stamp, "bench") for kind, item in items]
    return contracts, coverage


async def sla_report(bench: Bench, count: int) -> dict[str, Any]:
    url = await bench.create_database("sla", "reporting")
    load_s = await load_incidents(url, count)
    print(f"  loaded {count} incident facts (COPY + VACUUM ANALYZE) in {load_s:.1f} s")
    engine = create_engine(url)
    cases = {
        "year by month": ReportFilters(
            start=datetime(2025, 11, 1, tzinfo=UTC), end=datetime(2026, 11, 1, tzinfo=UTC), period="month"
        ),
        "one month by week": ReportFilters(
            start=datetime(2026, 5, 1, tzinfo=UTC), end=datetime(2026, 6, 1, tzinfo=UTC), period="week"
        ),
        "one service, year by month": ReportFilters(service_id=SERVICES[0]),
        "one supplier, year by month": ReportFilters(supplier_id=SUPPLIERS[0]),
        "no filters (all, by month)": ReportFilters(),
    }
    reports = dict.fromkeys(cases, "service-levels")
    cases["suppliers report, year"] = ReportFilters(
        start=datetime(2025, 11, 1, tzinfo=UTC), end=datetime(2026, 11, 1, tzinfo=UTC)
    )
    reports["suppliers report, year"] = "suppliers"
    out: dict[str, Any] = {"incidents": count, "load_s": round(load_s, 1), "cases": {}}
    try:
        for name, filters in cases.items():
            timings = []
            for i in range(8):
                async with engine.connect() as conn:
                    started = time.perf_counter()
                    report = await usecases.produce(conn, reports[name], filters)
                    elapsed = (time.perf_counter() - started) * 1000
                if i:  # the first is a warm-up
                    timings.append(elapsed)
            measured = sum(r["incidents"] for r in report.rows)  # summed over suppliers for the scorecards
            figure = {
                "median_ms": round(statistics.median(timings), 1),
                "max_ms": round(max(timings), 1),
                "rows": len(report.rows),
                "incidents_counted": measured,
            }
            out["cases"][name] = figure
            print(
                f"  {name}: median {figure['median_ms']} ms, max {figure['max_ms']} ms"
                f" ({figure['rows']} rows, {measured} incidents)"
            )
        async with engine.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(store.incident_facts))
        out["all_counted"] = out["cases"]["no filters (all, by month)"]["incidents_counted"] == total == count
    finally:
        await engine.dispose()
    return out


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    bench = Bench()
    info = await machine_info(bench)
    print_machine(info)
    failed = False
    try:
        tp: dict[str, Any] = {}
        if args.events:
            print(f"1. projection throughput ({args.events} events per round, {args.rounds} rounds)")
            tp = await throughput(bench, args.events, args.rounds)
            print(
                f"  median: bare {tp['median_bare_per_s']}/s, reporting {tp['median_reporting_per_s']}/s,"
                f" ratio {tp['median_ratio']} (targets >= {TARGET_RATIO} and >= {TARGET_RATE:.0f}/s);"
                f" every event once: {tp['every_event_once']}"
            )
            failed |= not tp["every_event_once"]
        sla: dict[str, Any] = {}
        if args.incidents:
            print(f"2. service-levels report over {args.incidents} incidents")
            sla = await sla_report(bench, args.incidents)
            worst = max(c["median_ms"] for name, c in sla["cases"].items() if not name.startswith("suppliers"))
            print(
                f"  slowest service-levels median {worst} ms (target < {TARGET_REPORT_MS:.0f} ms);"
                f" all counted: {sla['all_counted']}"
            )
            failed |= not sla["all_counted"]
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"machine": info, "throughput": tp, "sla_report": sla}, indent=2))
    finally:
        await bench.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
