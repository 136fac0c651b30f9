"""Part 1: incident create throughput over HTTP, the suite against the raw-asyncpg baseline.

Both apps run at the same time under the same uvicorn flags (one process each) on the same
PostgreSQL; wrk drives them one after the other at a fixed concurrency: a warm-up of each, then
`runs` rounds of (baseline, suite), reporting the median. The suite runs as in production: the
incident service with its outbox relay publishing to RabbitMQ and the reporting service
consuming every event into its own database, tracing on (spans created, not exported).
After each suite run the bench waits until reporting has every incident, so a backlog never
steals CPU from the next baseline run, and reports how far behind the pipeline was.

    uv run python -m bench.throughput [--runs 3 --duration 12 --connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

import httpx

from bench import smoke
from bench.infra import (
    INCIDENT_WORKERS,
    TRACES_SAMPLER,
    Bench,
    Stack,
    describe_cpu,
    machine_info,
    print_machine,
    run_main,
    running_stack,
)
from bench.wrk import INCIDENT_BODY, WrkResult, run_wrk

PATH = "/api/v1/incidents"
TARGET_RATIO = 0.5
TARGET_END_TO_END = 0.9
TARGET_DRAIN_S = 1.0
SMOKE = {"runs": 1, "duration": 1.0, "warmup": 1.0, "connections": 4}  # wrk takes whole seconds
TRACING_NOTE = (
    f"tracing on (FastAPI, SQLAlchemy, aio-pika spans created and ended), sampler {TRACES_SAMPLER}"
    " (BENCH_TRACES_SAMPLER), OTEL_TRACES_EXPORTER=none"
)


async def _check_same_answer(stack: Stack, token: str) -> None:
    """One create on each app: both 201, with the same response fields."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    keys = []
    async with httpx.AsyncClient(timeout=10) as client:
        for server in (stack.baseline, stack.incident):
            r = await client.post(server.base_url + PATH, content=INCIDENT_BODY, headers=headers)
            if r.status_code != 201:
                raise RuntimeError(f"{server.name}: POST {PATH} answered {r.status_code}: {r.text}")
            keys.append(sorted(r.json()))
    if keys[0] != keys[1]:
        raise RuntimeError(f"baseline and suite answer different fields: {keys[0]} vs {keys[1]}")


async def _one_run(stack: Stack, which: str, token: str, args: argparse.Namespace) -> dict[str, Any]:
    server = stack.baseline if which == "baseline" else stack.incident
    db = stack.baseline_db if which == "baseline" else stack.incident_db
    before = await stack.count(db, "SELECT count(*) FROM incident")
    window = stack.cpu_window()
    result = await run_wrk(
        server.base_url + PATH,
        token=token,
        duration_s=args.duration,
        connections=args.connections,
        threads=args.threads,
    )
    cpu = window.stop()
    stopped = time.monotonic()
    pipeline: dict[str, Any] = {}
    if which == "suite":
        # The relay and reporting may lag under saturation: the backlog when wrk stopped, and the
        # time from then until reporting has every incident (the drain time); waiting also keeps a
        # backlog from stealing CPU from the next run.
        pipeline["backlog_at_end"] = await stack.backlog()
        await stack.drain(interval_s=0.02)
        pipeline["drain_s"] = round(time.monotonic() - stopped, 3)
    await asyncio.sleep(0.5)  # requests in flight when wrk stopped complete on the server
    incidents = await stack.count(db, "SELECT count(*) FROM incident")
    outbox = await stack.count(db, "SELECT count(*) FROM outbox")
    row: dict[str, Any] = {
        "app": which,
        **result.as_dict(),
        "rows_written": incidents - before,
        "outbox_minus_incidents": outbox - incidents,
        "cpu": cpu,
    }
    if which == "suite":
        row.update(pipeline)
        # Incidents reaching reporting per second of run + drain, over the API's rate in the run.
        row["to_reporting_rps"] = round(row["rows_written"] / (result.duration_s + row["drain_s"]), 1)
        row["end_to_end_ratio"] = round(result.duration_s / (result.duration_s + row["drain_s"]), 3)
        await stack.drain()  # the requests that were in flight, too
        row["events_logged_minus_outbox"] = await stack.count(
            stack.reporting_db, "SELECT count(*) FROM event_log"
        ) - await stack.count(db, "SELECT count(*) FROM outbox")
    _check_run(row, result, args.connections)
    return row


def _check_run(row: dict[str, Any], result: WrkResult, connections: int) -> None:
    problems = []
    if result.non2xx:
        problems.append(f"{result.non2xx} non-2xx answers (first: {result.first_bad})")
    if result.errors:
        problems.append(f"{result.errors} socket errors/timeouts")
    # Every counted 2xx wrote its rows; at most `connections` more finished after wrk stopped counting.
    if not result.requests <= row["rows_written"] <= result.requests + connections:
        problems.append(f"{row['rows_written']} incident rows for {result.requests} answered requests")
    if row["outbox_minus_incidents"] != 0:
        problems.append("incident and outbox row counts differ")
    if row.get("events_logged_minus_outbox", 0) != 0:  # each event published reached reporting once
        problems.append(f"reporting's event log and the outbox differ by {row['events_logged_minus_outbox']} events")
    if "end_to_end_ratio" in row and not 0 < row["end_to_end_ratio"] <= 1:
        problems.append(f"end-to-end ratio {row['end_to_end_ratio']} out of (0, 1]")
    row["problems"] = problems


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for app in ("baseline", "suite"):
        mine = [r for r in runs if r["app"] == app]
        out[app] = {
            "rps": round(statistics.median(r["rps"] for r in mine), 1),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in mine), 2),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in mine), 2),
            "runs_rps": [r["rps"] for r in mine],
            "non2xx": sum(r["non2xx"] for r in mine),
            "errors": sum(r["errors"] for r in mine),
        }
    suite_runs = [r for r in runs if r["app"] == "suite"]
    out["suite"]["to_reporting_rps"] = round(statistics.median(r["to_reporting_rps"] for r in suite_runs), 1)
    out["suite"]["drain_s"] = round(statistics.median(r["drain_s"] for r in suite_runs), 3)
    out["suite"]["end_to_end_ratio"] = round(statistics.median(r["end_to_end_ratio"] for r in suite_runs), 3)
    out["ratio"] = round(out["suite"]["rps"] / out["baseline"]["rps"], 3)
    pairs = zip([r for r in runs if r["app"] == "baseline"], [r for r in runs if r["app"] == "suite"], strict=True)
    out["pair_ratios"] = [round(s["rps"] / b["rps"], 3) for b, s in pairs]
    out["problems"] = [f"{r['app']} run: {p}" for r in runs for p in r["problems"]]
    out["other_work_cores_max"] = max(r["cpu"]["other"] for r in runs)
    for app in ("baseline", "suite"):
        server = "baseline" if app == "baseline" else "incident"
        # CPU of the app's own process per request answered (suite: the relay included).
        out[app]["server_cpu_ms_per_request"] = round(
            statistics.median(
                1000 * r["cpu"][server] * r["cpu"]["wall_s"] / r["requests"] for r in runs if r["app"] == app
            ),
            3,
        )
    return out


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    token = stack.bench.token("agent")
    await _check_same_answer(stack, token)
    print(
        f"throughput: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s, warm-up {args.warmup:g}s each,"
        f" {args.runs} rounds of (baseline, suite)",
        flush=True,
    )
    print(f"  suite: {TRACING_NOTE}; relay and reporting running", flush=True)
    print(f"  incident API processes: {INCIDENT_WORKERS} (BENCH_INCIDENT_WORKERS)", flush=True)
    for server in (stack.baseline, stack.incident):
        await run_wrk(
            server.base_url + PATH,
            token=token,
            duration_s=args.warmup,
            connections=args.connections,
            threads=args.threads,
        )
    await stack.drain()
    runs: list[dict[str, Any]] = []
    for i in range(args.runs):
        for which in ("baseline", "suite"):
            row = await _one_run(stack, which, token, args)
            runs.append(row)
            extra = ""
            if which == "suite":
                lag = row["backlog_at_end"]
                extra = (
                    f"  backlog at end: outbox {lag['outbox_pending']}, reporting behind {lag['reporting_missing']};"
                    f" drained {row['drain_s']}s after wrk stopped; end to end / API {row['end_to_end_ratio']}"
                )
            cpu = row["cpu"]
            print(
                f"  run {i + 1} {which:<8} {row['rps']:>8.1f} req/s  p50 {row['p50_ms']:6.2f} ms"
                f"  p99 {row['p99_ms']:7.2f} ms  non-2xx {row['non2xx']}{extra}\n"
                f"        cpu: {describe_cpu(cpu)}",
                flush=True,
            )
    summary = summarise(runs)
    summary["runs"] = runs
    summary["settings"] = {
        "connections": args.connections,
        "threads": args.threads,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "rounds": args.runs,
        "tracing": TRACING_NOTE,
        "incident_workers": INCIDENT_WORKERS,
    }
    return summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=3, help="rounds of (baseline, suite); the median is reported")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of wrk warm-up per app")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)


def print_table(summary: dict[str, Any], args: argparse.Namespace) -> None:
    b, s, st = summary["baseline"], summary["suite"], summary["settings"]
    print()
    print(
        f"| create incident, wrk -t{st['threads']} -c{st['connections']} -d{st['duration_s']:g}s,"
        f" median of {st['rounds']} | req/s | p50 ms | p99 ms | non-2xx |"
    )
    print("|---|---:|---:|---:|---:|")
    for label, r in (("baseline (FastAPI + raw asyncpg)", b), ("suite (incident service)", s)):
        print(f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['non2xx']} |")
    verdict = smoke.verdict(summary["ratio"] >= TARGET_RATIO, args)
    print(
        f"ratio suite/baseline = {summary['ratio']:.3f} (target >= {TARGET_RATIO}: {verdict});"
        f" per round {summary['pair_ratios']}"
    )
    print(
        f"suite: {st['tracing']}; relay and reporting running. After each run the pipeline needed"
        f" {s['drain_s']} s (median) to bring every incident to reporting: {s['to_reporting_rps']:.0f} incidents/s"
        " end to end over run + drain."
    )
    ratio_met = smoke.verdict(s["end_to_end_ratio"] >= TARGET_END_TO_END, args)
    drain_met = smoke.verdict(s["drain_s"] < TARGET_DRAIN_S, args)
    print(
        f"TARGET end-to-end rate / API rate at saturation >= {TARGET_END_TO_END}: {s['end_to_end_ratio']:.3f}"
        f" (per run {[r['end_to_end_ratio'] for r in summary['runs'] if r['app'] == 'suite']}), {ratio_met}"
    )
    print(f"TARGET drain time when the load stops < {TARGET_DRAIN_S:g} s: {s['drain_s']:.3f} s, {drain_met}")
    print(
        f"CPU of the server process per request: baseline {b['server_cpu_ms_per_request']} ms,"
        f" incident service {s['server_cpu_ms_per_request']} ms (relay included)"
    )
    print(
        f"other work on the machine during the runs: up to {summary['other_work_cores_max']} cores"
        " (processes that are not the bench's, its servers, PostgreSQL or RabbitMQ)"
    )


async def _main(args: argparse.Namespace) -> int:
    bench = Bench()
    failed = True
    try:
        print_machine(await machine_info(bench))
        async with running_stack(bench) as stack:
            summary = await measure(stack, args)
        failed = bool(summary["problems"])
        print_table(summary, args)
        for problem in summary["problems"]:
            print("PROBLEM:", problem)
        return smoke.finish(summary["problems"], args)
    finally:
        await bench.cleanup(keep_logs=failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = smoke.parse_args(parser, **SMOKE)
    sys.exit(run_main(lambda: _main(args)))


if __name__ == "__main__":
    main()
