"""SLA watcher at scale: one pass of the incident service's `sla-watcher` over `--tickets` open
incidents (100,000) in PostgreSQL, target under 5 s.

1. A database `bench_<id>_incident` migrated with the service's migrations; an office calendar
   (Europe/Berlin, Monday-Friday 08:00-18:00, holidays) and a 24 x 7 one; default incident
   policies for priorities 1-5 (P1 on 24 x 7: 15 min / 4 h; P2 30 min / 8 h; P3 1 h / 16 h; P4
   4 h / 40 h; P5 8 h / 80 h of business time), warning at 75 %, P1 and P2 escalating
   hierarchically on breach (`incident.escalated.v1`).
2. `--tickets` open incidents opened over the last `--days` days (priorities 2 % P1, 8 % P2, 40 %
   P3, 40 % P4, 10 % P5), each with its response and resolution clock made by the domain
   (`SlaClock.start`, `move`): a third not responded yet, 15 % on hold since a random instant,
   the rest in progress. Loaded with COPY (rows from the service's own row functions), then
   `VACUUM (ANALYZE)`.
3. Steady state: a watcher ran until `--gap` seconds ago (3600: the worker was down an hour, 120
   passes of the default 30 s missed), so everything due before then is raised (flags and
   notices set in SQL). The
   pass: `usecases.sla_watcher.watch_pass` at now, in this process on its own engine, as the worker runs
   it (batches of `--batch` clocks claimed with FOR UPDATE SKIP LOCKED, notices, events in the
   outbox, flags, escalations): wall time, how many clocks were due, the events written. Every
   due clock must be raised exactly once (outbox counted, no duplicates).
4. The next pass at the same instant: nothing is due any more (the cost of looking).
5. The same pass again with two watchers at once (what the pass raised undone first).
6. Cold start: the first `--cold-tickets` tickets as if never watched (everything since they
   opened is due at once): wall time and events per second.

No HTTP and no broker: the outbox rows are counted, not published.

    uv run python -m bench.sla_watcher [--tickets 100000] [--json var/sla_watcher.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql

from bench import smoke
from bench.infra import Bench, asyncpg_dsn, machine_info, print_machine, run_main
from services.incident.domain.incident_lifecycle import Channel, HoldReason, IncidentStatus
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import Impact, Urgency
from services.incident.domain.sla import (
    ClockState,
    Escalation,
    EscalationKind,
    SlaClock,
    SlaPolicy,
    SlaTarget,
    TicketKind,
)
from services.incident.domain.sla_calendars import BusinessCalendar, WorkingWindow, working_hours_json
from services.incident.store import sla as sla_store
from services.incident.store.incidents import _to_row
from services.incident.store.sla import StoredClock, TicketRef
from services.incident.store.tables import incident, outbox
from services.incident.usecases import sla_watcher as sla
from shared.db import create_engine
from shared.uow import UnitOfWork

H = 3600
TARGETS = {1: (15 * 60, 4 * H), 2: (30 * 60, 8 * H), 3: (H, 16 * H), 4: (4 * H, 40 * H), 5: (8 * H, 80 * H)}
PRIORITY_WEIGHTS = {1: 2, 2: 8, 3: 40, 4: 40, 5: 10}
IMPACT_URGENCY = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 3), 5: (3, 3)}


def calendars() -> dict[str, tuple[uuid.UUID, BusinessCalendar]]:
    office = BusinessCalendar(
        "Europe/Berlin",
        dict.fromkeys(range(5), WorkingWindow.parse("08:00", "18:00")),
        frozenset({date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)}),
    )
    return {"office": (uuid.uuid4(), office), "24x7": (uuid.uuid4(), BusinessCalendar.always("UTC"))}


def policies(cals: dict[str, tuple[uuid.UUID, BusinessCalendar]]) -> dict[int, SlaPolicy]:
    out = {}
    for priority, (response, resolution) in TARGETS.items():
        notify = Escalation(EscalationKind.HIERARCHICAL, notify=("duty-manager",)) if priority <= 2 else None
        out[priority] = SlaPolicy(
            id=uuid.uuid4(),
            name=f"default P{priority}",
            ticket_kind=TicketKind.INCIDENT,
            service_id=None,
            priority=priority,
            response_s=response,
            resolution_s=resolution,
            calendar_id=cals["24x7" if priority == 1 else "office"][0],
            on_breach=notify,
        )
    return out


def build(
    n: int, days: int, now: datetime, pols: dict[int, SlaPolicy], cals: dict[uuid.UUID, BusinessCalendar], seed: int
) -> tuple[list[Incident], list[StoredClock]]:
    """Open incidents and their clocks, made by the domain as the service would have made them."""
    rng = random.Random(seed)
    priorities = rng.choices(list(PRIORITY_WEIGHTS), weights=list(PRIORITY_WEIGHTS.values()), k=n)
    incidents, clocks = [], []
    for i, priority in enumerate(priorities):
        opened = now - timedelta(seconds=rng.randrange(days * 86400))
        impact, urgency = IMPACT_URGENCY[priority]
        responded = rng.random() >= 1 / 3
        held = responded and rng.random() < 0.15
        status = IncidentStatus.ON_HOLD if held else IncidentStatus.IN_PROGRESS if responded else IncidentStatus.NEW
        item = Incident(
            id=uuid.uuid4(),
            number=f"INC{i + 1:07d}",
            title=f"bench incident {i}",
            description="",
            caller="bench",
            channel=Channel.API,
            impact=Impact(impact),
            urgency=Urgency(urgency),
            priority=priority,
            status=status,
            ci_id=None,
            opened_at=opened,
            updated_at=opened,
            assignment_group="service-desk" if responded else None,
            hold_reason=HoldReason.AWAITING_CALLER if held else None,
        )
        policy = pols[priority]
        calendar = cals[policy.calendar_id]
        ticket = TicketRef(TicketKind.INCIDENT, item.id, item.number, priority, None, item.assignment_group)
        response = SlaClock.start(SlaTarget.RESPONSE, policy, calendar, opened)
        resolution = SlaClock.start(SlaTarget.RESOLUTION, policy, calendar, opened)
        if responded:
            first = opened + (now - opened) * rng.random() * 0.3
            item.first_response_at = item.updated_at = first
            response.move(calendar, ClockState.STOPPED, first)
            if held:
                paused = first + (now - first) * rng.random()
                resolution.move(calendar, ClockState.PAUSED, paused)
                item.updated_at = paused
        incidents.append(item)
        clocks += [StoredClock(ticket, response), StoredClock(ticket, resolution)]
    return incidents, clocks


async def load(url: str, incidents: list[Incident], clocks: list[StoredClock], bench_setup: Any) -> float:
    t0 = time.perf_counter()
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await bench_setup(conn)
        columns = [c.name for c in incident.c]
        await conn.copy_records_to_table(
            "incident", records=[tuple(_to_row(i)[c] for c in columns) for i in incidents], columns=columns
        )
        clock_columns = [c.name for c in sla_store.sla_clock.c if c.name != "id"]
        rows = [sla_store._clock_row(c) for c in clocks]
        await conn.copy_records_to_table(
            "sla_clock",
            records=[tuple(r[c] for c in clock_columns) for r in rows],
            columns=clock_columns,
        )
        await conn.execute("VACUUM (ANALYZE) incident")
        await conn.execute("VACUUM (ANALYZE) sla_clock")
    finally:
        await conn.close()
    return time.perf_counter() - t0


async def counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await conn.fetch("SELECT routing_key, count(*) FROM outbox GROUP BY routing_key")
        out = {r["routing_key"]: int(r["count"]) for r in rows}
        out["sla_notice"] = int(await conn.fetchval("SELECT count(*) FROM sla_notice"))
        dupes = await conn.fetchval(
            "SELECT count(*) FROM (SELECT subject, routing_key, payload::json->'data'->>'target'"
            " FROM outbox WHERE routing_key LIKE 'sla.%' GROUP BY 1, 2, 3 HAVING count(*) > 1) d"
        )
        out["duplicates"] = int(dupes)
        return out
    finally:
        await conn.close()


ALERT_AT = (
    "UPDATE sla_clock SET alert_at ="
    " LEAST(CASE WHEN NOT warned THEN warn_at END, CASE WHEN NOT breached THEN due_at END)"
)


async def watched_until(url: str, until: datetime) -> None:
    """The state a watcher running all along leaves: everything due before `until` raised (its
    notice written, its flag set)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for kind, flag, instant in (("warning", "warned", "warn_at"), ("breached", "breached", "due_at")):
            await conn.execute(
                "INSERT INTO sla_notice (ticket_id, target, kind, ticket_kind, raised_at)"
                f" SELECT ticket_id, target, '{kind}', ticket_kind, $1 FROM sla_clock"
                f" WHERE NOT {flag} AND {instant} < $1",
                until,
            )
            await conn.execute(f"UPDATE sla_clock SET {flag} = true WHERE NOT {flag} AND {instant} < $1", until)
        await conn.execute(ALERT_AT)
        await conn.execute("VACUUM (ANALYZE) sla_clock")
        await conn.execute("VACUUM (ANALYZE) sla_notice")
    finally:
        await conn.close()


async def explain(url: str, now: datetime, batch: int) -> None:
    """The plan of the watcher's claim query, as PostgreSQL runs it."""
    clock = sla_store.sla_clock
    query = select(clock).where(sla_store._due(now)).order_by(clock.c.alert_at).limit(batch)
    query = query.with_for_update(skip_locked=True)
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            for row in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql):
                print("   ", row[0])
            raise _Rollback
    except _Rollback:
        pass
    finally:
        await conn.close()


class _Rollback(Exception):
    pass


async def unraise(url: str, until: datetime) -> None:
    """Undo what the passes since `until` raised (to measure the same pass again)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("DELETE FROM sla_notice WHERE raised_at > $1", until)
        await conn.execute("UPDATE sla_clock SET warned = false WHERE warned AND warn_at >= $1", until)
        await conn.execute("UPDATE sla_clock SET breached = false WHERE breached AND due_at >= $1", until)
        await conn.execute(ALERT_AT + " WHERE warn_at >= $1 OR due_at >= $1", until)
        await conn.execute("TRUNCATE outbox")
        await conn.execute("VACUUM (ANALYZE) sla_clock")
    finally:
        await conn.close()


async def cold_start(url: str, now: datetime, tickets: int) -> dict[str, int]:
    """The first `tickets` tickets as if never watched (a watcher down since they opened)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("TRUNCATE outbox")
        await conn.execute(
            "DELETE FROM sla_notice WHERE ticket_id IN (SELECT ticket_id FROM sla_clock WHERE id <= $1)", 2 * tickets
        )
        await conn.execute("UPDATE sla_clock SET warned = false, breached = false WHERE id <= $1", 2 * tickets)
        await conn.execute(ALERT_AT + " WHERE id <= $1", 2 * tickets)
        await conn.execute("VACUUM (ANALYZE) sla_clock")
    finally:
        await conn.close()
    return await due_now(url, now)


async def due_now(url: str, now: datetime) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            clocks = await sla_store.count_due_clocks(conn, now)
            c = sla_store.sla_clock.c
            query = select(
                func.count().filter(and_(c.warned.is_(False), c.warn_at < now)),
                func.count().filter(and_(c.breached.is_(False), c.due_at < now)),
            )
            warnings, breaches = (await conn.execute(query)).one()
        return {"clocks": clocks, "warnings": int(warnings), "breaches": int(breaches)}
    finally:
        await engine.dispose()


async def timed_pass(url: str, now: datetime, batch: int, watchers: int, rounds: int = 1) -> dict[str, Any]:
    """`rounds` passes on the same engines (warm: statements compiled and prepared after the
    first); the figures of the first, and the seconds of each."""
    engines = [create_engine(url, pool_size=2) for _ in range(watchers)]
    try:
        # Connections opened before the clock starts, as in a running worker.
        for e in engines:
            async with e.connect():
                pass
        times, first = [], None
        for _ in range(rounds):
            t0 = time.perf_counter()
            reports = await asyncio.gather(
                *(
                    sla.watch_pass(lambda e=e: UnitOfWork(e, outbox, source="/itsm/incident"), now, batch=batch)
                    for e in engines
                )
            )
            times.append(round(time.perf_counter() - t0, 3))
            first = first or reports
        assert first is not None
        reports, seconds = first, times[0]
    finally:
        for e in engines:
            await e.dispose()
    return {
        "seconds": seconds,
        "rounds_s": times,
        "watchers": watchers,
        "claimed": [r.claimed for r in reports],
        "warnings": sum(r.warnings for r in reports),
        "breaches": sum(r.breaches for r in reports),
        "escalations": sum(r.escalations for r in reports),
    }


async def _main(args: argparse.Namespace) -> int:
    bench = Bench()
    results: dict[str, Any] = {"command": " ".join(["uv run python -m bench.sla_watcher", *sys.argv[1:]])}
    problems: list[str] = []
    try:
        results["machine"] = await machine_info(bench)
        print_machine(results["machine"])
        url = await bench.create_database("incident", "incident")
        now = datetime.fromisoformat(args.now).astimezone(UTC)
        cals = calendars()
        pols = policies(cals)
        t0 = time.perf_counter()
        incidents, clocks = build(args.tickets, args.days, now, pols, dict(cals.values()), args.seed)
        print(f"built {len(incidents)} open incidents and {len(clocks)} clocks in {time.perf_counter() - t0:.1f}s")
        print(f"  by status: {dict(Counter(i.status.value for i in incidents))}")

        async def setup(conn: asyncpg.Connection) -> None:
            for name, (cid, cal) in cals.items():
                await conn.execute(
                    "INSERT INTO sla_calendar (id, name, time_zone, working_hours, holidays, version, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, 1, now())",
                    cid,
                    name,
                    cal.time_zone,
                    json.dumps(working_hours_json(cal)),
                    json.dumps(sorted(d.isoformat() for d in cal.holidays)),
                )
            for policy in pols.values():
                row = sla_store._policy_row(policy, now)
                for key in ("on_warning", "on_breach"):
                    row[key] = json.dumps(row[key]) if row[key] is not None else None
                names = list(row)
                await conn.execute(
                    f"INSERT INTO sla_policy ({', '.join(names)}) VALUES"
                    f" ({', '.join(f'${i + 1}' for i in range(len(names)))})",
                    *row.values(),
                )

        print(f"loaded in {await load(url, incidents, clocks, setup):.1f}s (COPY, VACUUM ANALYZE)")
        ever = await due_now(url, now)
        print(f"clocks whose warning or target passed since their ticket opened: {ever['clocks']} of {len(clocks)}")
        results["tickets"], results["clocks"], results["ever_due"] = len(incidents), len(clocks), ever

        until = now - timedelta(seconds=args.gap)
        await watched_until(url, until)
        due = await due_now(url, now)
        print(
            f"steady state: everything due before now - {args.gap}s raised already (flags and notices);"
            f" due at now: {due['clocks']} clocks ({due['warnings']} warnings, {due['breaches']} breaches)"
        )
        results["due"] = due
        if args.explain:
            await explain(url, now, args.batch)
        first = await timed_pass(url, now, args.batch, 1)
        after_first = await counts(url)
        second = await timed_pass(url, now, args.batch, 1, rounds=5)
        after_second = await counts(url)
        print(
            f"pass (one watcher, batch {args.batch}): {first['seconds']:.2f}s,"
            f" {first['warnings']} warnings, {first['breaches']} breaches, {first['escalations']} escalations;"
            f" outbox {after_first}"
        )
        print(
            f"next passes (nothing due): {', '.join(f'{t * 1000:.0f}' for t in second['rounds_s'])} ms,"
            f" outbox unchanged: {after_second == after_first}"
        )
        await unraise(url, until)
        both = await timed_pass(url, now, args.batch, 2)
        after_both = await counts(url)
        print(
            f"the same pass with two watchers at once: {both['seconds']:.2f}s, claimed {both['claimed']},"
            f" {both['warnings']} warnings, {both['breaches']} breaches; outbox {after_both}"
        )
        checks = [("one watcher", first, after_first, due), ("two watchers", both, after_both, due)]
        cold: dict[str, Any] = {}
        if args.cold_tickets:
            cold_due = await cold_start(url, now, args.cold_tickets)
            cold = await timed_pass(url, now, args.batch, 1)
            after_cold = await counts(url)
            rate = (cold["warnings"] + cold["breaches"]) / cold["seconds"]
            print(
                f"cold start: {args.cold_tickets} tickets never watched ({cold_due['clocks']} clocks due,"
                f" {cold_due['warnings'] + cold_due['breaches']} events to raise): {cold['seconds']:.2f}s,"
                f" {rate:.0f} events/s; outbox {after_cold}"
            )
            cold |= {"due": cold_due, "outbox": after_cold, "events_per_s": round(rate)}
            checks.append(("cold start", cold, after_cold, cold_due))
        results["passes"] = {
            "one_watcher": first | {"outbox": after_first},
            "nothing_due": second | {"outbox": after_second},
            "two_watchers": both | {"outbox": after_both},
            "cold_start": cold,
        }
        for name, run, outbox_counts, expected in checks:
            if (run["warnings"], run["breaches"]) != (expected["warnings"], expected["breaches"]):
                problems.append(f"{name}: raised {run['warnings']}/{run['breaches']}, due {expected}")
            raised = outbox_counts.get("sla.warning.v1", 0) + outbox_counts.get("sla.breached.v1", 0)
            if raised != expected["warnings"] + expected["breaches"]:
                problems.append(f"{name}: outbox {outbox_counts} does not match what was due {expected}")
            if outbox_counts["duplicates"]:
                problems.append(f"{name}: {outbox_counts['duplicates']} events raised twice")
        if after_second != after_first:
            problems.append("the second pass raised something again")
        print(f"TARGET one pass < 5 s: {first['seconds']:.2f}s, {smoke.verdict(first['seconds'] < 5, args)}")
        if first["seconds"] >= 5 and not args.smoke:
            problems.append(f"target missed: the pass took {first['seconds']:.2f}s (target < 5 s)")
    finally:
        await bench.cleanup()
    for problem in problems:
        print("PROBLEM:", problem)
    results["problems"] = problems
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=2, default=str) + "\n")
        print(f"results written to {args.json}")
    return smoke.finish(problems, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=10, help="incidents opened over this many days before now")
    parser.add_argument("--batch", type=int, default=1000, help="clocks per transaction (INCIDENT_SLA_WATCH_BATCH)")
    parser.add_argument("--gap", type=int, default=3600, help="seconds since the previous pass (the watcher was down)")
    parser.add_argument("--cold-tickets", type=int, default=10_000, help="tickets never watched, for the cold start")
    parser.add_argument(
        "--now",
        default="2026-12-02T15:00:00+01:00",
        help="the instant of the pass (a Wednesday afternoon in Berlin: office-hours clocks are running)",
    )
    parser.add_argument("--explain", action="store_true", help="print the plan of the claim query")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    args = smoke.parse_args(parser, tickets=2000, cold_tickets=200)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sys.exit(run_main(lambda: _main(args)))


if __name__ == "__main__":
    main()
