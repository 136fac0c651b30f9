"""An alert storm: Alertmanager webhooks at a fixed rate into the incident service's alert intake.

    uv run python -m bench.alert_storm [--rate 500] [--duration 30] [--fingerprints 200] [--per-webhook 1]
                                       [--no-step-down] [--json var/alert_storm.json] [--smoke]

The incident service runs alone (`itsm serve`, one process, its outbox relay publishing to
RabbitMQ, tracing on, not exported) on a scratch database migrated with its migrations.

**Load** (seeded, the same every run): `rate x duration` alerts over `--fingerprints` distinct
alerts. Each fingerprint fires at least once and most many times (Alertmanager repeating a
firing alert; a skewed share, so a few alerts are much noisier than the rest), then resolves
once, shortly after its last firing; one in ten resolves is sent twice (a repeated resolved
notification, which must be ignored). `--per-webhook` alerts are sent in one notification
(payload version 4, as Alertmanager sends it; 1: each alert its own POST, the worst case).
**Open loop**: each webhook goes out on a fixed clock whatever the answers do (the open-loop
bench's keep-alive client: an idle connection or a new one), and its latency is measured from its
intended send time. Like Alertmanager, which sends one notification per group at a time, a
resolve waits until the firings of its alert have been answered.

**Checks** (any failure: exit 1): every webhook answered 200 (no errors, no timeouts); per
fingerprint, the answers say opened once, updated for every other firing, resolved once and
ignored for each repeated resolve; in the database, exactly one incident per fingerprint (the
incident count grew by `--fingerprints`), each alert row with the occurrence count of its
firings and resolved, each incident resolved.

**Target**: p99 of the webhook < 100 ms at the rate asked, with 0 errors ("held"). A step in
which webhooks failed or timed out (`--timeout`) is not held, and its counts are not checked (what
the service made of a webhook the sender gave up on is not known). When it does not hold, the
same kind of load runs again at half the rate for `--step-duration` (10 s; fresh fingerprints,
same database; fewer fingerprints when a short step has too few alerts for them: a quarter of
the alerts) until it holds or falls under `--min-rate`; each step prints where the CPU went (the
incident process, PostgreSQL, RabbitMQ, this sender, other work) and the incident process's CPU ms
per alert.
`--smoke`: 40 alerts/s for 2 s over 10 fingerprints, every check, no target judged, no step down.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import random
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench import smoke
from bench.infra import (
    Bench,
    CpuWindow,
    ServerProcess,
    asyncpg_dsn,
    describe_cpu,
    machine_info,
    print_machine,
    run_main,
)
from bench.openloop import KeepAliveClient, percentile, sleep_until

PATH = "/api/v1/alerts/alertmanager"
TARGET_P99_MS = 100.0
STEP_FACTOR = 0.5
SMOKE = {"rate": 40.0, "duration": 2.0, "fingerprints": 10, "step_down": False}


@dataclass(frozen=True)
class AlertSend:
    fingerprint: str
    status: str  # firing | resolved


@dataclass
class Plan:
    """What is sent, webhook by webhook, and what the intake must make of it."""

    webhooks: list[list[AlertSend]]
    firings: dict[str, int]  # per fingerprint: the occurrences expected
    resolves: dict[str, int]  # per fingerprint: resolved notifications (the first resolves, the rest are ignored)

    @property
    def alerts(self) -> int:
        return sum(len(w) for w in self.webhooks)


def make_plan(*, alerts: int, fingerprints: int, per_webhook: int, seed: int, prefix: str) -> Plan:
    """`alerts` alerts over `fingerprints` fingerprints: firings (a skewed share each, at least
    one), then one resolve per fingerprint shortly after its last firing, one in ten twice."""
    rng = random.Random(seed)
    names = [f"{prefix}{i:04d}" for i in range(fingerprints)]
    resolves = {n: 2 if rng.random() < 0.1 else 1 for n in names}
    n_firings = alerts - sum(resolves.values())
    if n_firings < fingerprints:
        raise ValueError(f"{alerts} alerts are too few for {fingerprints} fingerprints that fire and resolve")
    weights = [1 / (i + 1) ** 0.6 for i in range(fingerprints)]
    sequence = names + rng.choices(names, weights=weights, k=n_firings - fingerprints)
    rng.shuffle(sequence)
    last = {name: i for i, name in enumerate(sequence)}
    keyed: list[tuple[float, AlertSend]] = [(i, AlertSend(n, "firing")) for i, n in enumerate(sequence)]
    for name, times in resolves.items():
        at = last[name] + rng.randint(1, max(2, fingerprints // 4))
        keyed += [(at + 0.5 + k * rng.randint(1, 20), AlertSend(name, "resolved")) for k in range(times)]
    keyed.sort(key=lambda pair: pair[0])
    ordered = [send for _, send in keyed]
    webhooks = [ordered[i : i + per_webhook] for i in range(0, len(ordered), per_webhook)]
    return Plan(webhooks, dict(collections.Counter(sequence)), resolves)


def _alert_json(send: AlertSend, started: str) -> dict[str, Any]:
    firing = send.status == "firing"
    return {
        "status": send.status,
        "labels": {
            "alertname": "HighErrorRate",
            "severity": "critical" if int(send.fingerprint[-2:], 16) % 5 == 0 else "warning",
            "instance": f"app-{send.fingerprint[-4:]}:9100",
            "job": "node",
        },
        "annotations": {"summary": "5xx above 5%", "description": f"{send.fingerprint} returns errors"},
        "startsAt": started,
        "endsAt": "0001-01-01T00:00:00Z" if firing else "2026-12-07T10:05:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=rate",
        "fingerprint": send.fingerprint,
    }


def webhook_body(alerts: list[AlertSend]) -> bytes:
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": "firing" if any(a.status == "firing" for a in alerts) else "resolved",
        "receiver": "itsm",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [_alert_json(a, "2026-12-07T10:00:00Z") for a in alerts],
    }
    return json.dumps(body).encode()


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    actions: dict[str, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    late_ms_max: float = 0.0
    last_answer_s: float = 0.0


async def send_storm(client: KeepAliveClient, token: str, plan: Plan, rate: float) -> Outcome:
    """The plan's webhooks on a fixed clock (`rate` alerts a second)."""
    per_s = rate / (plan.alerts / len(plan.webhooks))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    prepared = [client.request_bytes("POST", PATH, headers=headers, body=webhook_body(w)) for w in plan.webhooks]
    firing_done: dict[str, list[asyncio.Future[None]]] = collections.defaultdict(list)
    out = Outcome()
    loop = asyncio.get_running_loop()

    async def one(i: int, intended: float, done: asyncio.Future[None]) -> None:
        alerts = plan.webhooks[i]
        waits = [f for a in alerts if a.status == "resolved" for f in firing_done[a.fingerprint] if f is not done]
        try:
            if waits:
                await asyncio.gather(*waits)
            out.late_ms_max = max(out.late_ms_max, 1000 * (time.perf_counter() - intended))
            try:
                answer = await client.send(prepared[i])
            except Exception as exc:  # every failure is counted and shown
                out.errors.append(f"webhook {i}: {type(exc).__name__}: {exc}")
                return
            finished = time.perf_counter()
            out.latencies_ms.append(1000 * (finished - intended))
            out.last_answer_s = finished
            if answer.status != 200:
                out.errors.append(f"webhook {i}: {answer.status} {answer.body[:300]!r}")
                return
            for result in json.loads(answer.body)["results"]:
                out.actions[result["fingerprint"]][result["action"]] += 1
        finally:
            done.set_result(None)

    tasks = []
    start = time.perf_counter() + 0.05
    for i, alerts in enumerate(plan.webhooks):
        done: asyncio.Future[None] = loop.create_future()
        for a in alerts:
            if a.status == "firing":
                firing_done[a.fingerprint].append(done)
        intended = start + i / per_s
        await sleep_until(intended)
        tasks.append(asyncio.create_task(one(i, intended, done)))
    await asyncio.gather(*tasks)
    out.last_answer_s -= start
    return out


def check_answers(plan: Plan, out: Outcome) -> list[str]:
    problems = list(out.errors[:5])
    if len(out.errors) > 5:
        problems.append(f"... {len(out.errors)} webhooks failed in all")
    if out.errors:
        return problems
    for fp, firings in plan.firings.items():
        expected = {"opened": 1, "updated": firings - 1, "resolved": 1, "ignored": plan.resolves[fp] - 1}
        got = {k: out.actions[fp][k] for k in expected} | {
            k: v for k, v in out.actions[fp].items() if k not in expected
        }
        if got != expected:
            problems.append(f"{fp}: answers {dict(got)}, expected {expected}")
    return problems[:10]


async def check_database(conn: asyncpg.Connection, plan: Plan, prefix: str, incidents_before: int) -> list[str]:
    problems = []
    incidents = int(await conn.fetchval("SELECT count(*) FROM incident")) - incidents_before
    if incidents != len(plan.firings):
        problems.append(f"{incidents} incidents opened for {len(plan.firings)} fingerprints")
    rows = await conn.fetch(
        "SELECT a.fingerprint, a.occurrences, a.status, i.status AS incident_status"
        " FROM monitoring_alert a JOIN incident i ON i.id = a.incident_id WHERE a.fingerprint LIKE $1",
        prefix + "%",
    )
    seen = collections.Counter(r["fingerprint"] for r in rows)
    if twice := [fp for fp, n in seen.items() if n > 1]:
        problems.append(f"{len(twice)} fingerprints with more than one alert row, e.g. {twice[0]}")
    for r in rows:
        want = plan.firings.get(r["fingerprint"])
        if r["occurrences"] != want or r["status"] != "resolved" or r["incident_status"] != "resolved":
            problems.append(
                f"{r['fingerprint']}: occurrences {r['occurrences']} (expected {want}), alert {r['status']},"
                f" incident {r['incident_status']}"
            )
    if missing := set(plan.firings) - set(seen):
        problems.append(f"{len(missing)} fingerprints without an alert row")
    return problems[:10]


@asynccontextmanager
async def incident_service(bench: Bench) -> AsyncIterator[tuple[ServerProcess, str]]:
    db = await bench.create_database("incident", "incident")
    server = ServerProcess(
        "incident", "services.incident.app:create_app", bench.service_env("incident", db), bench.workdir
    )
    try:
        await server.wait_ready("/readyz")
        yield server, asyncpg_dsn(db)
    finally:
        await server.stop()


async def one_step(
    bench: Bench, server: ServerProcess, dsn: str, args: argparse.Namespace, rate: float, step: int
) -> dict[str, Any]:
    prefix = f"s{step}-"
    duration = args.duration if step == 0 else args.step_duration
    alerts = int(rate * duration)
    plan = make_plan(
        alerts=alerts,
        fingerprints=min(args.fingerprints, max(10, alerts // 4)),
        per_webhook=args.per_webhook,
        seed=args.seed + step,
        prefix=prefix,
    )
    conn = await asyncpg.connect(dsn)
    try:
        before = int(await conn.fetchval("SELECT count(*) FROM incident"))
        client = KeepAliveClient("127.0.0.1", server.port, timeout_s=args.timeout)
        window = CpuWindow.start({server.pid: "incident"}, bench.run_id)
        out = await send_storm(client, bench.token("monitoring"), plan, rate)
        cpu = window.stop()
        await client.close()
        await _wait_settled(conn)
        if out.errors:
            # Webhooks that failed or timed out: the rate did not hold. What the service made of
            # them is not known, so the counts are not checked; the step down goes on.
            problems, failed = [], [*out.errors[:3], f"{len(out.errors)} webhooks failed in all"]
        else:
            problems, failed = check_answers(plan, out) + await check_database(conn, plan, prefix, before), []
    finally:
        await conn.close()
    answered = len(out.latencies_ms)
    p99 = percentile(out.latencies_ms, 99) if answered else float("inf")
    held = not problems and not out.errors and p99 < TARGET_P99_MS
    row = {
        "rate": rate,
        "alerts": plan.alerts,
        "webhooks": len(plan.webhooks),
        "fingerprints": len(plan.firings),
        "p50_ms": round(percentile(out.latencies_ms, 50), 2) if answered else None,
        "p99_ms": round(p99, 2),
        "max_ms": round(max(out.latencies_ms), 2) if answered else None,
        "errors": len(out.errors),
        "sender_late_ms_max": round(out.late_ms_max, 1),
        "answered_alerts_per_s": round(plan.alerts / out.last_answer_s, 1) if out.last_answer_s > 0 else None,
        "held": held,
        "failed": failed,
        "cpu": cpu,
        "incident_cpu_ms_per_alert": round(1000 * cpu["incident"] * cpu["wall_s"] / plan.alerts, 3),
        "problems": problems,
    }
    print(
        f"  {rate:.0f} alerts/s for {duration:g}s ({plan.alerts} alerts in {len(plan.webhooks)} webhooks,"
        f" {len(plan.firings)} fingerprints): p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, max {row['max_ms']} ms,"
        f" errors {row['errors']}, answered at {row['answered_alerts_per_s']} alerts/s -> "
        f"{'held' if held else 'not held'}\n"
        f"      cpu: {describe_cpu(cpu)}; incident {row['incident_cpu_ms_per_alert']} ms per alert",
        flush=True,
    )
    for problem in problems:
        print("  PROBLEM:", problem, flush=True)
    for failure in failed:
        print("  failed:", failure, flush=True)
    return row


async def _wait_settled(conn: asyncpg.Connection, within_s: float = 120.0) -> None:
    """Until the service has finished what it was sent (webhooks the sender gave up on may still
    run) and its relay has published it all, so neither takes CPU from the next step."""
    deadline = time.monotonic() + within_s
    last = None
    while time.monotonic() < deadline:
        now = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS pending,"
            " (SELECT coalesce(sum(occurrences), 0) FROM monitoring_alert) AS fired,"
            " (SELECT count(*) FROM incident_history) AS history"
        )
        if now["pending"] == 0 and now == last:
            return
        last = now
        await asyncio.sleep(1.0)


async def _main(args: argparse.Namespace) -> int:
    bench = Bench()
    results: dict[str, Any] = {"command": " ".join(["python -m bench.alert_storm", *sys.argv[1:]]), "steps": []}
    problems: list[str] = []
    try:
        results["machine"] = await machine_info(bench)
        print_machine(results["machine"])
        async with incident_service(bench) as (server, dsn):
            print(
                f"alert storm: {args.rate:g} alerts/s for {args.duration:g}s over {args.fingerprints} fingerprints,"
                f" {args.per_webhook} alert(s) per webhook, open loop",
                flush=True,
            )
            rate, step = args.rate, 0
            while True:
                row = await one_step(bench, server, dsn, args, rate, step)
                results["steps"].append(row)
                problems += row["problems"]
                if row["held"] or row["problems"] or not args.step_down or rate * STEP_FACTOR < args.min_rate:
                    break
                rate, step = round(rate * STEP_FACTOR), step + 1
    finally:
        await bench.cleanup(keep_logs=bool(problems))
    first = results["steps"][0] if results["steps"] else None
    if first is not None:
        held = [s for s in results["steps"] if s["held"]]
        print(
            f"TARGET alert storm at {args.rate:g} alerts/s, p99 < {TARGET_P99_MS:g} ms and 0 errors:"
            f" p99 {first['p99_ms']} ms, {first['errors']} errors, {smoke.verdict(first['held'], args)}"
        )
        if not first["held"] and args.step_down:
            print(f"rate that held: {held[-1]['rate']:g} alerts/s" if held else "no rate tried held")
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=2, default=str) + "\n")
    return smoke.finish(problems, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=500.0, help="alerts a second")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--fingerprints", type=int, default=200)
    parser.add_argument("--step-duration", type=float, default=10.0, help="seconds of each lower rate tried")
    parser.add_argument("--per-webhook", type=int, default=1, help="alerts per notification")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a webhook counts as failed")
    parser.add_argument("--min-rate", type=float, default=20.0, help="the step down stops below this")
    parser.add_argument("--no-step-down", dest="step_down", action="store_false")
    parser.add_argument("--json", metavar="PATH")
    args = smoke.parse_args(parser, **SMOKE)
    sys.exit(run_main(lambda: _main(args)))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
