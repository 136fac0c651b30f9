"""Change service benchmark (issue 5): conflict detection at scale, and change -> CMDB propagation.

Part (a), conflicts: a change database holding a schedule of `--changes` (50,000) changes over a
year, on 20,000 CIs of 200 services known from the CI read model (40,000 relationships, 50 hub
CIs that many changes touch), 30 blackouts and the services' maintenance windows, loaded by COPY
with the rows the service's own row function writes (`store.changes._to_row`), then VACUUM (ANALYZE).
For `--samples` changes drawn from those on the schedule it times, one after the other:

- `usecases.schedule.conflicts_of` in this process on its own engine (the whole detection: related CIs
  one hop away in the read model, the overlapping changes on those CIs, blackouts, maintenance
  windows of the change's services, the pure check), and the same with two hops;
- `GET /api/v1/changes/{id}/conflicts` on a change service process (uvicorn, tracing on and not
  exported), which also reads the change itself.

Each answer of the use case is compared, off the clock, with the pure `schedule.conflicts` run on
the whole schedule held in memory; any difference fails the run. Target: p95 < 20 ms.

Part (b), propagation: change and config as two service processes on one RabbitMQ. `--cis` CIs
are created through config's API (the change service learns them from config's events), and as
many changes are taken through the lifecycle to `implementing` beforehand, each planning an
update of its own CI. Then `POST /api/v1/changes/{id}/complete` is sent open loop at `--rate`
(50) per second for `--duration` seconds after a warm-up; every delay is measured from the
request's intended send time. An observer polls config's database every 2 ms
(`ci_version` rows caused by a change, by CI id: indexed) and the change's (`cmdb_outcome =
'applied'`), so "visible" means committed where the API reads it. Printed: p50/p99/max of the
answer to the complete, implemented -> new CI version in config, and implemented -> the change
shows the CMDB applied it (the round trip).

    uv run python -m bench.change [--changes 50000 --samples 400 --rate 50 --duration 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx
from sqlalchemy import text

from bench import smoke
from bench.cmdb import wait_until_quiet
from bench.infra import Bench, ServerProcess, asyncpg_dsn, describe_cpu, machine_info, print_machine, run_main
from bench.openloop import KeepAliveClient, percentile, sleep_until
from services.change.domain.changes import Change, ChangeStatus, ChangeType
from services.change.domain.maintenance import MaintenanceWindow
from services.change.domain.schedule import Blackout, Surroundings, conflicts
from services.change.store import changes as change_store
from services.change.store.schedule import slot_of
from services.change.store.tables import change as change_table
from services.change.usecases.changes import Governance
from services.change.usecases.schedule import conflicts_of
from shared.db import create_engine
from shared.messaging import QueueNames

YEAR = datetime(2027, 1, 1, tzinfo=UTC)
TARGET_P95_MS = 20.0


def _ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50) * 1000, 2),
        "p95": round(percentile(values, 95) * 1000, 2),
        "p99": round(percentile(values, 99) * 1000, 2),
        "max": round(max(values) * 1000, 2),
    }


# ---------------------------------------------------------------------------- (a) the schedule


@dataclass
class Schedule:
    services: list[uuid.UUID]
    cis: dict[uuid.UUID, uuid.UUID]  # CI -> its service
    relationships: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]  # id, source, target
    changes: list[Change]
    blackouts: list[Blackout]
    windows: dict[uuid.UUID, list[MaintenanceWindow]] = field(default_factory=dict)


def generate(seed: int, n_changes: int, n_cis: int = 20_000, n_services: int = 200) -> Schedule:
    rng = random.Random(seed)
    services = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(n_services)]
    ci_ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(n_cis)]
    cis = {ci: services[i % n_services] for i, ci in enumerate(ci_ids)}
    hubs = ci_ids[:50]  # shared databases, core switches: in many changes and many relationships
    relationships = []
    for ci in ci_ids[50:]:
        for target in {rng.choice(ci_ids) for _ in range(2)} | ({rng.choice(hubs)} if rng.random() < 0.1 else set()):
            if target != ci:
                relationships.append((uuid.UUID(int=rng.getrandbits(128)), ci, target))
    on_schedule = (ChangeStatus.APPROVED, ChangeStatus.SCHEDULED, ChangeStatus.IMPLEMENTING)
    changes = []
    for i in range(n_changes):
        start = YEAR + timedelta(minutes=rng.randrange(365 * 24 * 60 // 15) * 15)
        end = start + timedelta(hours=rng.choice((1, 1, 2, 2, 3, 4, 6)))
        picked = {rng.choice(hubs) if rng.random() < 0.05 else rng.choice(ci_ids) for _ in range(rng.randint(1, 4))}
        status = rng.choice(on_schedule) if rng.random() < 0.85 else ChangeStatus.CLOSED
        created = start - timedelta(days=rng.randint(1, 30))
        changes.append(
            Change(
                id=uuid.UUID(int=rng.getrandbits(128)),
                number=f"CHG{i + 1:07d}",
                title=f"bench change {i + 1}",
                description="",
                justification="",
                change_type=ChangeType.NORMAL,
                category=None,
                status=status,
                requester="bench",
                planned_start=start,
                planned_end=end,
                affected_ci_ids=tuple(sorted(picked)),
                created_at=created,
                updated_at=created,
                service_ids=tuple(sorted({cis[c] for c in picked})),
                backout_plan="restore",
            )
        )
    blackouts = []
    for i in range(30):
        start = YEAR + timedelta(days=rng.randrange(365))
        scope = frozenset(rng.sample(ci_ids, 20)) if i % 3 else frozenset()
        blackouts.append(
            Blackout(uuid.uuid4(), f"freeze {i}", start, start + timedelta(hours=rng.choice((8, 24, 72))), scope)
        )
    windows: dict[uuid.UUID, list[MaintenanceWindow]] = {}
    for service in services[:150]:
        windows[service] = [
            MaintenanceWindow.define(
                window_id=uuid.uuid4(),
                service_id=service,
                name=f"window {k}",
                time_zone=rng.choice(("Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC")),
                days=rng.sample(range(7), rng.randint(1, 3)),
                start=dtime(rng.randrange(24)),
                duration=timedelta(hours=rng.choice((2, 4, 8))),
            )
            for k in range(rng.randint(1, 2))
        ]
    return Schedule(services, cis, relationships, changes, blackouts, windows)


def _copyable(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


async def load(url: str, schedule: Schedule) -> dict[str, float]:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    columns = [c.name for c in change_table.columns]
    changes = [tuple(_copyable(change_store._to_row(c)[k]) for k in columns) for c in schedule.changes]
    affected = [(c.id, ci) for c in schedule.changes for ci in c.affected_ci_ids]
    services = [(c.id, s) for c in schedule.changes for s in c.service_ids]
    now = datetime.now(UTC)
    cis = [
        (ci, f"CI{i:07d}", f"ci-{i}", "application", "active", 3, svc, None, 1, now)
        for i, (ci, svc) in enumerate(schedule.cis.items())
    ]
    cis += [
        (s, f"SV{i:07d}", f"service-{i}", "business_service", "active", 2, None, None, 1, now)
        for i, s in enumerate(schedule.services)
    ]
    rels = [(rid, s, "depends_on", t) for rid, s, t in schedule.relationships]
    windows = [
        (
            w.id,
            w.service_id,
            w.name,
            w.time_zone,
            json.dumps(sorted(w.days)),
            w.start.isoformat(timespec="minutes"),
            int(w.duration.total_seconds() // 60),
            "bench",
            now,
        )
        for ws in schedule.windows.values()
        for w in ws
    ]
    blackouts = [
        (b.id, b.name, b.start, b.end, json.dumps(sorted(str(i) for i in b.ci_ids)), "bench", now)
        for b in schedule.blackouts
    ]
    timings["build_rows_s"] = time.perf_counter() - t0
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("change", records=changes, columns=columns)
            await conn.copy_records_to_table("change_affected_ci", records=affected, columns=("change_id", "ci_id"))
            await conn.copy_records_to_table("change_service", records=services, columns=("change_id", "service_id"))
            await conn.copy_records_to_table(
                "ci_read_model",
                records=cis,
                columns=(
                    "id",
                    "number",
                    "name",
                    "type",
                    "status",
                    "criticality",
                    "service_id",
                    "supplier_id",
                    "version",
                    "updated_at",
                ),
            )
            await conn.copy_records_to_table(
                "ci_relationship_read_model", records=rels, columns=("id", "source_id", "type", "target_id")
            )
            await conn.copy_records_to_table(
                "maintenance_window",
                records=windows,
                columns=(
                    "id",
                    "service_id",
                    "name",
                    "time_zone",
                    "days",
                    "start_time",
                    "duration_minutes",
                    "created_by",
                    "created_at",
                ),
            )
            await conn.copy_records_to_table(
                "blackout_window",
                records=blackouts,
                columns=("id", "name", "start", "end", "ci_ids", "created_by", "created_at"),
            )
            await conn.execute("SELECT setval('change_number_seq', $1)", len(schedule.changes))
        timings["copy_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for table in (
            "change",
            "change_affected_ci",
            "change_service",
            "ci_read_model",
            "ci_relationship_read_model",
            "maintenance_window",
            "blackout_window",
        ):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        timings["vacuum_analyze_s"] = time.perf_counter() - t0
    finally:
        await conn.close()
    return {k: round(v, 2) for k, v in timings.items()}


class Reference:
    """The pure check run on the whole schedule held in memory: the known answer."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.adjacency: defaultdict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for _, s, t in schedule.relationships:
            self.adjacency[s].add(t)
            self.adjacency[t].add(s)
        on = {ChangeStatus.APPROVED, ChangeStatus.SCHEDULED, ChangeStatus.IMPLEMENTING}
        self.slots = [slot_of(c) for c in schedule.changes if c.status in on]

    def related(self, ci: uuid.UUID, depth: int) -> frozenset[uuid.UUID]:
        around, edge = {ci}, {ci}
        for _ in range(depth):
            edge = {n for c in edge for n in self.adjacency.get(c, ())} - around
            around |= edge
        return frozenset(around - {ci})

    def conflicts(self, item: Change, depth: int) -> list[tuple[str, str, tuple[uuid.UUID, ...]]]:
        slot = slot_of(item)
        around = Surroundings(
            {ci: self.related(ci, depth) for ci in slot.ci_ids},
            {s: self.schedule.windows[s] for s in slot.service_ids if s in self.schedule.windows},
        )
        return sorted((c.kind, c.other, c.ci_ids) for c in conflicts(slot, self.slots, self.schedule.blackouts, around))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def measure_conflicts(
    url: str, schedule: Schedule, samples: list[Change], server: ServerProcess, token: str, quiet_wait: float
) -> dict[str, Any]:
    reference = Reference(schedule)
    loads = {}
    engine = create_engine(url, pool_size=2)
    results: dict[str, Any] = {}
    mismatches: list[str] = []
    found_counts: list[int] = []
    try:
        for depth in (1, 2):
            governance = Governance(dependency_depth=depth)
            timings: list[float] = []
            floor: list[float] = []
            await wait_until_quiet(f"the conflict use case (depth {depth})", quiet_wait)
            loads[f"use_case_depth{depth}"] = _load()
            async with engine.connect() as conn:
                for item in samples[:10]:  # warm-up: plans, caches
                    await conflicts_of(conn, item, governance)
                for item in samples:
                    # The floor, interleaved: one trivial query on the same connection, as the
                    # machine is at that moment (it is shared: the ratio says more than the ms).
                    t0 = time.perf_counter()
                    await conn.execute(text("SELECT 1"))
                    floor.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    found = await conflicts_of(conn, item, governance)
                    timings.append(time.perf_counter() - t0)
                    got = sorted((c.kind, c.other, c.ci_ids) for c in found)
                    if depth == 1:
                        found_counts.append(len(got))
                    if got != reference.conflicts(item, depth):
                        mismatches.append(f"{item.number} depth {depth}")
            results[f"use_case_depth{depth}"] = _ms(timings)
            results[f"select_1_depth{depth}_run"] = _ms(floor)
    finally:
        await engine.dispose()
    client = KeepAliveClient("127.0.0.1", server.port)
    headers = {"Authorization": f"Bearer {token}"}
    timings, floor = [], []
    await wait_until_quiet("GET conflicts", quiet_wait)
    loads["http_get_conflicts"] = _load()
    try:
        for item in samples[:10]:
            await client.send(client.request_bytes("GET", f"/api/v1/changes/{item.id}/conflicts", headers=headers))
        health = client.request_bytes("GET", "/healthz", headers={})
        for item in samples:
            t0 = time.perf_counter()
            await client.send(health)
            floor.append(time.perf_counter() - t0)
            raw = client.request_bytes("GET", f"/api/v1/changes/{item.id}/conflicts", headers=headers)
            t0 = time.perf_counter()
            answer = await client.send(raw)
            timings.append(time.perf_counter() - t0)
            if answer.status != 200:
                mismatches.append(f"GET conflicts of {item.number}: {answer.status} {answer.body[:200]!r}")
            elif len(json.loads(answer.body)) != len(reference.conflicts(item, 1)):
                mismatches.append(f"GET conflicts of {item.number}: not the reference's count")
    finally:
        await client.close()
    results["http_get_conflicts"] = _ms(timings)
    results["http_healthz_run"] = _ms(floor)
    results["conflicts_per_change"] = {
        "mean": round(sum(found_counts) / len(found_counts), 2),
        "max": max(found_counts),
        "with_any": sum(1 for n in found_counts if n),
    }
    results["mismatches"] = mismatches
    loads["after"] = _load()
    results["load_average"] = loads
    return results


async def part_a(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    schedule = generate(args.seed, args.changes)
    print(
        f"(a) generated {len(schedule.changes)} changes on {len(schedule.cis)} CIs"
        f" of {len(schedule.services)} services,"
        f" {len(schedule.relationships)} relationships, {len(schedule.blackouts)} blackouts,"
        f" {sum(len(w) for w in schedule.windows.values())} maintenance windows in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    url = await bench.create_database("change_schedule", "change")
    timings = await load(url, schedule)
    print(f"    loaded: {timings}", flush=True)
    on = [c for c in schedule.changes if c.status is not ChangeStatus.CLOSED]
    samples = random.Random(args.seed + 1).sample(on, args.samples)
    server = ServerProcess(
        "change-a", "services.change.app:create_app", bench.service_env("change", url), bench.workdir
    )
    try:
        await server.wait_ready("/readyz")
        result = await measure_conflicts(url, schedule, samples, server, bench.token("auditor"), args.quiet_wait)
    finally:
        await server.stop()
    result["load"] = timings
    result["schedule"] = {"changes": len(schedule.changes), "on_schedule": len(on), "cis": len(schedule.cis)}
    return result


# ---------------------------------------------------------------------------- (b) propagation


@dataclass
class Sample:
    change_id: str
    number: str
    ci_id: str
    intended: float = 0.0
    answered: float = 0.0
    status: int = 0
    in_config: float = 0.0
    applied: float = 0.0
    error: str = ""


async def _gather_limited(n: int, coros: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(n)

    async def one(c: Any) -> Any:
        async with gate:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


async def _queue_depth(bench: Bench, service: str) -> int:
    connection = await aio_pika.connect(bench.amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(QueueNames.for_queue(bench.queue_prefix + service).main, passive=True)
        return int(queue.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def _quiet(bench: Bench, change_db: str, within_s: float = 120) -> None:
    """Nothing left in the change's outbox nor in either service's queue."""
    deadline = time.monotonic() + within_s
    conn = await asyncpg.connect(asyncpg_dsn(change_db))
    try:
        while True:
            pending = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            depth = await _queue_depth(bench, "config") + await _queue_depth(bench, "change")
            if pending == 0 and depth == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"not quiet after {within_s}s: outbox {pending}, queues {depth}")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def prepare(change: ServerProcess, config: ServerProcess, bench: Bench, change_db: str, n: int) -> list[Sample]:
    cmdb = {"Authorization": f"Bearer {bench.token('config_manager')}"}
    rita = {"Authorization": f"Bearer {mint('requester', 'rita')}"}
    mike = {"Authorization": f"Bearer {mint('change_manager', 'mike')}"}
    # Separation of duties: the manager who assessed the risk does not approve the change.
    nina = {"Authorization": f"Bearer {mint('change_manager', 'nina')}"}
    async with httpx.AsyncClient(base_url=config.base_url, timeout=30) as config_api:

        async def make_ci(i: int) -> str:
            r = await config_api.post(
                "/api/v1/cis", json={"name": f"bench-vm-{i}", "type": "virtual_machine"}, headers=cmdb
            )
            r.raise_for_status()
            return str(r.json()["id"])

        ci_ids = await _gather_limited(8, [make_ci(i) for i in range(n)])
    conn = await asyncpg.connect(asyncpg_dsn(change_db))
    try:
        deadline = time.monotonic() + 120
        while await conn.fetchval("SELECT count(*) FROM ci_read_model") < n:
            if time.monotonic() > deadline:
                raise RuntimeError("the change service did not learn the CIs from config's events")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    start = datetime.now(UTC) - timedelta(minutes=5)
    async with httpx.AsyncClient(base_url=change.base_url, timeout=30) as change_api:

        async def make_change(i: int, ci_id: str) -> Sample:
            body = {
                "title": f"Upgrade bench-vm-{i}",
                "planned_start": start.isoformat(),
                "planned_end": (start + timedelta(hours=3)).isoformat(),
                "affected_ci_ids": [ci_id],
                "backout_plan": "previous image",
                "planned_ci_changes": [
                    {"action": "update", "ci_id": ci_id, "attributes": {"product_version": f"v{i}"}}
                ],
            }
            r = await change_api.post("/api/v1/changes", json=body, headers=rita)
            r.raise_for_status()
            item = r.json()
            url = f"/api/v1/changes/{item['id']}"
            for action, payload, who in [
                ("submit", None, rita),
                ("assess", {"risk": "low"}, mike),
                ("approve", None, nina),
                ("schedule", None, mike),
                ("start", None, mike),
            ]:
                step = await change_api.post(f"{url}/{action}", json=payload, headers=who)
                if step.status_code != 200:
                    raise RuntimeError(f"{action} of {item['number']}: {step.status_code} {step.text[:300]}")
            return Sample(item["id"], item["number"], ci_id)

        samples = await _gather_limited(8, [make_change(i, ci) for i, ci in enumerate(ci_ids)])
    await _quiet(bench, change_db)
    return list(samples)


def mint(role: str, subject: str) -> str:
    from bench.infra import JWT_SECRET
    from shared.auth import mint_token

    return mint_token(JWT_SECRET, subject, [role])


async def observe(
    config_db: str, change_db: str, pending: dict[str, Sample], stop: asyncio.Event, poll_s: float
) -> dict[str, float]:
    config_conn = await asyncpg.connect(asyncpg_dsn(config_db))
    change_conn = await asyncpg.connect(asyncpg_dsn(change_db))
    by_ci: dict[str, Sample] = {}
    to_apply: dict[str, Sample] = {}
    polls, query_s = 0, 0.0
    try:
        while not (stop.is_set() and not by_ci and not to_apply and not pending):
            for change_id in list(pending):
                s = pending.pop(change_id)
                by_ci[s.ci_id] = s
                to_apply[s.change_id] = s
            t0 = time.perf_counter()
            if by_ci:
                rows = await config_conn.fetch(
                    "SELECT ci_id::text AS ci FROM ci_version WHERE ci_id = ANY($1::uuid[]) AND cause_kind = 'change'",
                    list(by_ci),
                )
                now = time.perf_counter()
                for row in rows:
                    s = by_ci.pop(row["ci"], None)
                    if s is not None:
                        s.in_config = now
            if to_apply:
                rows = await change_conn.fetch(
                    "SELECT id::text AS id FROM change WHERE id = ANY($1::uuid[]) AND cmdb_outcome = 'applied'",
                    list(to_apply),
                )
                now = time.perf_counter()
                for row in rows:
                    s = to_apply.pop(row["id"], None)
                    if s is not None:
                        s.applied = now
            polls += 1
            query_s += time.perf_counter() - t0
            await asyncio.sleep(poll_s)
    finally:
        await config_conn.close()
        await change_conn.close()
    return {"polls": polls, "mean_poll_ms": round(query_s / max(polls, 1) * 1000, 2)}


async def part_b(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    warmup_n = round(args.warmup * args.rate)
    total = warmup_n + round(args.duration * args.rate)
    change_db = await bench.create_database("change", "change")
    config_db = await bench.create_database("config", "config")
    processes: list[ServerProcess] = []
    try:
        change = ServerProcess(
            "change", "services.change.app:create_app", bench.service_env("change", change_db), bench.workdir
        )
        processes.append(change)
        await change.wait_ready("/readyz")  # its queue exists before config publishes the CIs
        config = ServerProcess(
            "config", "services.config.app:create_app", bench.service_env("config", config_db), bench.workdir
        )
        processes.append(config)
        await config.wait_ready("/readyz")
        t0 = time.perf_counter()
        samples = await prepare(change, config, bench, change_db, total)
        print(
            f"(b) {total} CIs created in config and {total} changes taken to implementing"
            f" in {time.perf_counter() - t0:.0f}s",
            flush=True,
        )
        print(f"    complete: {args.rate:g}/s open loop for {args.duration:g}s (+{args.warmup:g}s warm-up)", flush=True)
        client = KeepAliveClient("127.0.0.1", change.port)
        headers = {"Authorization": f"Bearer {mint('change_manager', 'mike')}", "Content-Type": "application/json"}
        pending: dict[str, Sample] = {}
        stop = asyncio.Event()
        observing = asyncio.create_task(observe(config_db, change_db, pending, stop, args.poll_ms / 1000))

        async def one(s: Sample) -> None:
            try:
                answer = await client.send(
                    client.request_bytes("POST", f"/api/v1/changes/{s.change_id}/complete", headers=headers)
                )
            except Exception as exc:
                s.answered, s.error = time.perf_counter(), f"{type(exc).__name__}: {exc}"
                return
            s.answered, s.status = time.perf_counter(), answer.status
            if answer.status == 200:
                pending[s.change_id] = s
            else:
                s.error = answer.body.decode(errors="replace")[:300]

        from bench.infra import CpuWindow

        await wait_until_quiet("the propagation run", args.quiet_wait)
        load_before = _load()
        window = CpuWindow.start({change.pid: "change", config.pid: "config"}, bench.run_id)
        begin = time.perf_counter() + 0.05
        tasks = []
        try:
            for i, s in enumerate(samples):
                s.intended = begin + i / args.rate
                await sleep_until(s.intended)
                tasks.append(asyncio.create_task(one(s)))
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
            stop.set()
            poll = await asyncio.wait_for(observing, timeout=args.visible_timeout)
            cpu = window.stop()
        finally:
            stop.set()
            observing.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await observing
            await client.close()
        measured = samples[warmup_n:]
        problems = [f"{s.number}: {s.status} {s.error}" for s in measured if s.status != 200][:3]
        problems += [f"{s.number} not in config" for s in measured if s.status == 200 and not s.in_config][:3]
        problems += [f"{s.number} not shown applied" for s in measured if s.status == 200 and not s.applied][:3]
        async with httpx.AsyncClient(base_url=config.base_url, timeout=10) as config_api:
            for s in random.Random(args.seed).sample(measured, min(10, len(measured))):
                history = (
                    await config_api.get(
                        f"/api/v1/cis/{s.ci_id}/history", headers={"Authorization": f"Bearer {bench.token('auditor')}"}
                    )
                ).json()
                if history["items"][0]["cause_reference"] != s.number:
                    problems.append(f"{s.ci_id}: newest version not caused by {s.number}")
        ok = [s for s in measured if s.status == 200 and s.in_config and s.applied]
        return {
            "rate": args.rate,
            "duration_s": args.duration,
            "measured": len(measured),
            "complete_answer": _ms([s.answered - s.intended for s in measured]),
            "implemented_to_ci_version_in_config": _ms([s.in_config - s.intended for s in ok]),
            "implemented_to_change_shows_applied": _ms([s.applied - s.intended for s in ok]),
            "observer": poll,
            "cpu": cpu,
            "load_average": {"before": load_before, "after": _load()},
            "problems": problems,
        }
    finally:
        await asyncio.gather(*(p.stop() for p in processes), return_exceptions=True)


# ---------------------------------------------------------------------------- main


def _line(name: str, figures: dict[str, float]) -> str:
    keys = [k for k in ("p50", "p95", "p99", "max") if k in figures]
    return f"  {name:<42} " + "  ".join(f"{k} {figures[k]:>7.2f} ms" for k in keys) + f"  (n={figures.get('n', 0)})"


async def _main(args: argparse.Namespace) -> int:
    bench = Bench()
    results: dict[str, Any] = {"command": " ".join(["uv run python -m bench.change", *sys.argv[1:]])}
    problems: list[str] = []
    completed = False
    try:
        results["machine"] = await machine_info(bench)
        print_machine(results["machine"])
        if "a" in args.parts:
            results["conflicts"] = await part_a(bench, args)
            problems += [f"conflicts differ from the pure reference: {m}" for m in results["conflicts"]["mismatches"]]
        if "b" in args.parts:
            results["propagation"] = await part_b(bench, args)
            problems += results["propagation"]["problems"]
        completed = True
    finally:
        await bench.cleanup(keep_logs=not completed or bool(problems))
    if "conflicts" in results:
        c = results["conflicts"]
        print(
            f"\n(a) conflict detection against {c['schedule']['changes']} changes"
            f" ({c['schedule']['on_schedule']} on the schedule), {args.samples} changes checked:"
        )
        print(_line("use case, related CIs 1 hop (default)", c["use_case_depth1"]))
        print(_line("  floor: SELECT 1, interleaved", c["select_1_depth1_run"]))
        print(_line("use case, related CIs 2 hops", c["use_case_depth2"]))
        print(_line("  floor: SELECT 1, interleaved", c["select_1_depth2_run"]))
        print(_line("GET /api/v1/changes/{id}/conflicts", c["http_get_conflicts"]))
        print(_line("  floor: GET /healthz, interleaved", c["http_healthz_run"]))
        print(f"  conflicts per change: {c['conflicts_per_change']}")
        p95 = c["use_case_depth1"]["p95"]
        met = smoke.verdict(p95 < TARGET_P95_MS, args)
        print(f"TARGET conflicts of a change (use case, 1 hop), p95 < {TARGET_P95_MS:g} ms: {p95:.2f} ms, {met}")
        print(f"  load average (1, 5, 15 min) at the start of each: {c['load_average']}")
    if "propagation" in results:
        p = results["propagation"]
        print(
            f"\n(b) change implemented -> CMDB, {p['rate']:g} changes/s open loop"
            f" for {p['duration_s']:g}s ({p['measured']} changes):"
        )
        print(_line("POST /complete answered", p["complete_answer"]))
        print(_line("implemented -> CI version visible in config", p["implemented_to_ci_version_in_config"]))
        print(_line("implemented -> change shows CMDB applied", p["implemented_to_change_shows_applied"]))
        print(f"  observer: {p['observer']}; CPU: {describe_cpu(p['cpu'])}")
        print(f"  load average: {p['load_average']}")
    for problem in problems:
        print("PROBLEM:", problem)
    results["problems"] = problems
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=2, default=str) + "\n")
        print(f"results written to {args.json}")
    return smoke.finish(problems, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="ab", help="a: conflicts, b: propagation (default both)")
    parser.add_argument("--changes", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=400, help="changes whose conflicts are timed")
    parser.add_argument("--rate", type=float, default=50.0, help="completes per second (part b)")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds (part b)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first (part b)")
    parser.add_argument("--poll-ms", type=float, default=2.0)
    parser.add_argument("--visible-timeout", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--quiet-wait", type=float, default=900, help="wait up to this long for other tests and benches to finish"
    )
    parser.add_argument("--json", help="write every figure to this file")
    args = smoke.parse_args(
        parser, changes=500, samples=10, rate=10.0, duration=1.0, warmup=0.5, visible_timeout=30.0, quiet_wait=0.0
    )
    sys.exit(run_main(lambda: _main(args)))


if __name__ == "__main__":
    main()
