"""Part 2: how long after a create the incident is visible in reporting, at a steady rate.

Open loop: create requests are scheduled on a fixed clock (`--rate` per second) whatever the
answers do, each on an idle keep-alive connection or a new one, and every delay is measured from
the request's *intended* send time, so a stall shows up in full (no coordinated omission).

"Visible in reporting" is observed, not inferred: an observer in the bench polls reporting's own
database every `--poll-ms` with one indexed query, `SELECT subject FROM event_log WHERE subject =
ANY($pending)`, over a single connection. A row it sees is committed, so reporting's API (which
reads that table) would return it. The time taken is that of the poll answer that first shows the
row, so the figure is an upper bound, late by at most one poll interval plus one query. Both ends
are read from the bench's one monotonic clock (no clock comparison across processes).

Why not the alternatives: polling `GET /api/v1/events?subject=<id>` for every pending incident
every few ms would add hundreds of authenticated requests per second to the very service being
measured; and `event_log.received_at - opened_at` (both server timestamps) leaves out the HTTP
request before `opened_at` is stamped and reporting's commit after `received_at` (`now()` is the
start of the consumer's transaction). That last difference is still printed, as "server lag", and
a sample of incidents is checked through the API at the end.

    uv run python -m bench.propagation [--rate 100 --duration 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from bench import smoke
from bench.infra import (
    Bench,
    Stack,
    asyncpg_dsn,
    describe_cpu,
    machine_info,
    print_machine,
    run_main,
    running_stack,
)
from bench.openloop import KeepAliveClient, percentile, sleep_until
from bench.wrk import INCIDENT_BODY

PATH = "/api/v1/incidents"
TARGET_P99_MS = 100.0
SMOKE = {"rate": 20.0, "latency_duration": 1.0, "latency_warmup": 0.5}


@dataclass
class Sample:
    intended: float
    sent: float = 0.0
    answered: float = 0.0
    status: int = 0
    incident_id: str = ""
    visible: float = 0.0
    error: str = ""


@dataclass
class Observer:
    """Polls reporting's event log for the incidents created and not yet seen there."""

    dsn: str
    poll_s: float
    pending: dict[str, Sample] = field(default_factory=dict)
    polls: int = 0
    query_s: float = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            query = "SELECT subject FROM event_log WHERE subject = ANY($1::text[])"
            while not (stop.is_set() and not self.pending):
                if self.pending:
                    started = time.perf_counter()
                    rows = await conn.fetch(query, list(self.pending))
                    now = time.perf_counter()
                    self.polls += 1
                    self.query_s += now - started
                    for row in rows:
                        sample = self.pending.pop(row["subject"], None)
                        if sample is not None:
                            sample.visible = now
                await asyncio.sleep(self.poll_s)
        finally:
            await conn.close()


def _ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    return {
        "p50": round(percentile(values, 50) * 1000, 2),
        "p99": round(percentile(values, 99) * 1000, 2),
        "max": round(max(values) * 1000, 2),
    }


async def _server_lag(stack: Stack, ids: list[str]) -> list[float]:
    """received_at (reporting's consumer transaction start) minus the incident's opened_at."""
    conn = await asyncpg.connect(asyncpg_dsn(stack.reporting_db))
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM e.received_at - p.opened_at) AS lag FROM event_log e"
            " JOIN incident_facts p ON p.incident_id::text = e.subject WHERE e.subject = ANY($1::text[])",
            ids,
        )
    finally:
        await conn.close()
    return [float(r["lag"]) for r in rows]


async def _check_through_api(stack: Stack, token: str, ids: list[str]) -> list[str]:
    """A sample of incidents, each found once in reporting's event log API."""
    problems = []
    async with httpx.AsyncClient(base_url=stack.reporting.base_url, timeout=10) as client:
        for incident_id in random.sample(ids, min(20, len(ids))):
            r = await client.get(
                "/api/v1/events", params={"subject": incident_id}, headers={"Authorization": f"Bearer {token}"}
            )
            if r.status_code != 200 or r.json()["total"] != 1:
                problems.append(f"GET /api/v1/events?subject={incident_id}: {r.status_code} {r.text[:200]}")
    return problems


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    token = stack.bench.token("agent")
    await stack.drain()
    client = KeepAliveClient("127.0.0.1", stack.incident.port)
    raw = client.request_bytes(
        "POST",
        PATH,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        body=INCIDENT_BODY.encode(),
    )
    observer = Observer(asyncpg_dsn(stack.reporting_db), poll_s=args.poll_ms / 1000)
    stop = asyncio.Event()
    observing = asyncio.create_task(observer.run(stop))
    warmup_n = round(args.latency_warmup * args.rate)
    total = warmup_n + round(args.latency_duration * args.rate)
    print(
        f"propagation: {args.rate:g} creates/s open loop for {args.latency_duration:g}s"
        f" (+{args.latency_warmup:g}s warm-up),"
        f" reporting's event log polled every {args.poll_ms:g} ms",
        flush=True,
    )

    async def one(sample: Sample) -> None:
        sample.sent = time.perf_counter()
        try:
            answer = await client.send(raw)
        except Exception as exc:
            sample.answered = time.perf_counter()
            sample.error = f"{type(exc).__name__}: {exc}"
            return
        sample.answered = time.perf_counter()
        sample.status = answer.status
        if answer.status == 201:
            sample.incident_id = json.loads(answer.body)["id"]
            observer.pending[sample.incident_id] = sample
        else:
            sample.error = answer.body.decode(errors="replace")[:300]

    samples: list[Sample] = []
    tasks: list[asyncio.Task[None]] = []
    window = stack.cpu_window()
    start = time.perf_counter() + 0.05
    try:
        for i in range(total):
            sample = Sample(intended=start + i / args.rate)
            samples.append(sample)
            await sleep_until(sample.intended)
            tasks.append(asyncio.create_task(one(sample)))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        cpu = window.stop()
        stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(observing), timeout=args.visible_timeout)
    finally:
        stop.set()
        observing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await observing
        await client.close()

    measured = samples[warmup_n:]
    created = [s for s in measured if s.status == 201]
    seen = [s for s in created if s.visible]
    problems = [f"{len(measured) - len(created)} creates did not answer 201"] if len(created) < len(measured) else []
    problems += [f"first failure: {s.status} {s.error}" for s in measured if s.status != 201][:1]
    if len(seen) < len(created):
        problems.append(f"{len(created) - len(seen)} incidents not visible in reporting within {args.visible_timeout}s")
    ids = [s.incident_id for s in created]
    server_lag = await _server_lag(stack, ids) if ids else []
    problems += await _check_through_api(stack, token, [s.incident_id for s in seen]) if seen else []
    span = (measured[-1].intended - measured[0].intended) if len(measured) > 1 else 0.0
    result = {
        "rate": args.rate,
        "duration_s": args.latency_duration,
        "warmup_s": args.latency_warmup,
        "requests": len(measured),
        "created": len(created),
        "visible": len(seen),
        "offered_rate": round((len(measured) - 1) / span, 1) if span else 0.0,
        "send_lag_ms_max": round(max((s.sent - s.intended) * 1000 for s in measured), 2) if measured else 0.0,
        "create_ms": _ms([s.answered - s.intended for s in created]),
        "visible_ms": _ms([s.visible - s.intended for s in seen]),
        "visible_after_201_ms": _ms([s.visible - s.answered for s in seen]),
        "server_lag_ms": _ms(server_lag),
        "poll_ms": args.poll_ms,
        "observer_query_ms_mean": round(1000 * observer.query_s / observer.polls, 3) if observer.polls else 0.0,
        "connections_opened": client.opened,
        "retried_on_closed_keepalive": client.retried,
        "cpu": cpu,
        "problems": problems,
    }
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=float, default=100.0, help="creates per second, on a fixed clock")
    parser.add_argument("--latency-duration", type=float, default=20.0, help="measured seconds at --rate")
    parser.add_argument("--latency-warmup", type=float, default=3.0, help="seconds at --rate before, not counted")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="how often reporting's event log is polled")
    parser.add_argument("--visible-timeout", type=float, default=15.0, help="seconds to wait for the last ones")


def print_table(result: dict[str, Any], args: argparse.Namespace) -> None:
    print()
    print(
        f"| open loop {result['rate']:g}/s for {result['duration_s']:g}s (ms, from the intended send time) "
        "| p50 | p99 | max |"
    )
    print("|---|---:|---:|---:|")
    rows = [
        ("create answered (201)", result["create_ms"]),
        ("create -> visible in reporting", result["visible_ms"]),
        ("  of which after the 201", result["visible_after_201_ms"]),
        ("server lag: received_at - opened_at", result["server_lag_ms"]),
    ]
    for label, v in rows:
        print(f"| {label} | {v['p50']:.2f} | {v['p99']:.2f} | {v['max']:.2f} |")
    verdict = smoke.verdict(result["visible_ms"]["p99"] < TARGET_P99_MS, args)
    print(
        f"{result['visible']}/{result['requests']} visible; offered {result['offered_rate']} req/s;"
        f" p99 create->visible {result['visible_ms']['p99']:.1f} ms (target < {TARGET_P99_MS:g} ms: {verdict});"
        f" resolution {result['poll_ms']:g} ms poll + {result['observer_query_ms_mean']} ms query;"
        f" the generator sent at most {result['send_lag_ms_max']} ms late (counted in the delays)"
    )
    print(f"cpu during the run: {describe_cpu(result['cpu'])}")


async def _main(args: argparse.Namespace) -> int:
    bench = Bench()
    failed = True
    try:
        print_machine(await machine_info(bench))
        async with running_stack(bench) as stack:
            result = await measure(stack, args)
        failed = bool(result["problems"])
        print_table(result, args)
        for problem in result["problems"]:
            print("PROBLEM:", problem)
        return smoke.finish(result["problems"], args)
    finally:
        await bench.cleanup(keep_logs=failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = smoke.parse_args(parser, **SMOKE)
    sys.exit(run_main(lambda: _main(args)))


if __name__ == "__main__":
    main()
