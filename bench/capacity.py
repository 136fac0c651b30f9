"""Capacity at scale: one pass of the config service's capacity job over `--cis` CIs (10,000)
with 3 metrics each, against a local Prometheus (Debian's `prometheus`), target under 10 s.

1. An exporter process (this module with `--exporter`, prometheus-client's text format) serves
   `cpu_used_ratio`, `memory_used_ratio` and `disk_used_ratio` for every CI (label `ci_id`),
   each a fixed value from the seed (about 4 % of them over critical, 10 % between warning
   and critical).
2. Prometheus scrapes it every `--step` seconds into a scratch folder; the bench waits until
   every series is there with `--look-back` + 3 scrapes stored.
3. A database `bench_<id>_config` migrated with config's migrations: the CIs, the 3 metrics
   (`max by (ci_id) (<name>)`) and a threshold per CI and metric (warning 0.8, critical 0.9),
   loaded with COPY.
4. The first pass (`usecases.capacity.sampling_pass`, as the worker runs it, on its own engine):
   `--look-back` steps before now to now, so every series gives `--look-back` + 1 instants,
   all crossings emitted (the cold start). Then the steady pass one step later: one new instant
   per series and no crossing (the levels already stand). Wall time of each; the target is
   judged on the steady pass, the figure every interval costs.
5. Checks: samples stored = series x instants, nothing twice; the breached events in the outbox
   = the CIs x metrics over warning (a critical one is one event, at its level); the steady
   pass emits nothing; Prometheus's own count of series equals what was sampled.

No HTTP and no broker: the outbox rows are counted, not published.

    uv run python -m bench.capacity [--cis 10000] [--json var/capacity.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import smoke
from bench.infra import Bench, asyncpg_dsn, free_port, machine_info, print_machine, run_main
from services.config.store.prometheus import PrometheusClient
from services.config.store.tables import outbox
from services.config.usecases import capacity
from shared.db import create_engine
from shared.uow import UnitOfWork
from tests.prometheus import BINARY, Prometheus

METRICS = ("cpu_used_ratio", "memory_used_ratio", "disk_used_ratio")
WARNING, CRITICAL = 0.8, 0.9
TARGET_S = 10.0


def values(cis: list[str], seed: int) -> dict[str, dict[str, float]]:
    """metric -> CI -> its fixed value: 86 % under warning, 10 % warning, 4 % critical."""
    rng = random.Random(seed)
    table: dict[str, dict[str, float]] = {}
    for metric in METRICS:
        row = {}
        for ci in cis:
            roll = rng.random()
            low, high = (0.05, 0.79) if roll < 0.86 else (0.8, 0.89) if roll < 0.96 else (0.9, 0.99)
            row[ci] = round(rng.uniform(low, high), 4)
        table[metric] = row
    return table


def ci_ids(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


# ---------------------------------------------------------------------------------- the exporter


def serve_exporter(port: int, cis: int, seed: int) -> None:
    """The exporter process: one fixed page of 3 x `cis` gauges, rendered once."""
    ids = ci_ids(cis, seed)
    table = values(ids, seed)
    lines = []
    for metric in METRICS:
        lines += [f"# HELP {metric} Share in use", f"# TYPE {metric} gauge"]
        lines += [f'{metric}{{ci_id="{ci}"}} {table[metric][ci]}' for ci in ids]
    page = ("\n".join(lines) + "\n").encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def start_exporter(port: int, cis: int, seed: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "bench.capacity", "--exporter", str(port), "--cis", str(cis), "--seed", str(seed)]
    return subprocess.Popen(command)


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str))


# ---------------------------------------------------------------------------------- the data


async def load(url: str, ids: list[str], now: datetime) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        cis = [
            (uuid.UUID(ci), f"CI{n:07d}", f"host-{n:05d}", "server", "live", 3, "{}", now, now, 1)
            for n, ci in enumerate(ids, 1)
        ]
        await conn.copy_records_to_table(
            "config_item",
            records=cis,
            columns=[
                "id",
                "number",
                "name",
                "type",
                "status",
                "criticality",
                "attributes",
                "created_at",
                "updated_at",
                "version",
            ],
        )
        metric_ids = {m: uuid.uuid4() for m in METRICS}
        for metric, metric_id in metric_ids.items():
            await conn.execute(
                "INSERT INTO capacity_metric (id, name, unit, promql, ci_label, warning, critical, created_at,"
                " created_by) VALUES ($1, $2, 'ratio', $3, 'ci_id', $4, $5, $6, 'bench')",
                metric_id,
                metric,
                f"max by (ci_id) ({metric})",
                WARNING,
                CRITICAL,
                now,
            )
        thresholds = [(metric_ids[m], uuid.UUID(ci), WARNING, CRITICAL, "ok", now) for m in METRICS for ci in ids]
        await conn.copy_records_to_table(
            "capacity_threshold",
            records=thresholds,
            columns=["metric_id", "ci_id", "warning", "critical", "level", "updated_at"],
        )
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


async def counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        samples = await conn.fetchval("SELECT count(*) FROM capacity_sample")
        distinct = await conn.fetchval("SELECT count(DISTINCT (metric_id, ci_id, at)) FROM capacity_sample")
        rows = await conn.fetch("SELECT routing_key, count(*) FROM outbox GROUP BY routing_key")
        levels = await conn.fetch("SELECT level, count(*) FROM capacity_threshold GROUP BY level")
    finally:
        await conn.close()
    return {
        "samples": samples,
        "distinct_samples": distinct,
        **{r[0]: r[1] for r in rows},
        **{f"level_{r[0]}": r[1] for r in levels},
    }


async def until_scraped(base: str, cis: int, scrapes: int, step: float) -> None:
    """Every series in Prometheus, with `scrapes` scrapes of them stored."""
    promql = f"count(count_over_time({METRICS[-1]}[1h]) >= {scrapes})"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        deadline = time.monotonic() + 60 + (scrapes + 1) * step
        while time.monotonic() < deadline:
            r = await client.get("/api/v1/query", params={"query": promql})
            result = r.json()["data"]["result"] if r.status_code == 200 else []
            if result and int(float(result[0]["value"][1])) == cis:
                return
            await asyncio.sleep(0.5)
    raise RuntimeError(f"Prometheus did not scrape every series {scrapes} times in time")


async def timed_pass(url: str, base: str, sampling: capacity.Sampling, now: datetime) -> dict[str, Any]:
    engine = create_engine(url, pool_size=2)
    try:
        async with engine.connect():
            pass  # a connection opened before the clock starts, as in a running worker
        async with PrometheusClient(base, timeout_s=60) as source:
            t0 = time.perf_counter()
            result = await capacity.sampling_pass(
                lambda: UnitOfWork(engine, outbox, source="/itsm/config"), source, sampling, now
            )
            seconds = time.perf_counter() - t0
    finally:
        await engine.dispose()
    return {
        "seconds": round(seconds, 3),
        "samples": result.samples,
        "crossings": result.crossings,
        "source_up": result.source_up,
    }


async def _main(args: argparse.Namespace) -> int:
    if BINARY is None:
        print("prometheus is not installed (apt-get install -y prometheus)", file=sys.stderr)
        return 1
    bench = Bench()
    results: dict[str, Any] = {"command": " ".join(["uv run python -m bench.capacity", *sys.argv[1:]])}
    problems: list[str] = []
    exporter_port = free_port()
    exporter = start_exporter(exporter_port, args.cis, args.seed)
    try:
        results["machine"] = await machine_info(bench)
        print_machine(results["machine"])
        url = await bench.create_database("config", "config")
        ids = ci_ids(args.cis, args.seed)
        table = values(ids, args.seed)
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        await load(url, ids, now)
        print(
            f"loaded {args.cis} CIs, {len(METRICS)} metrics, {args.cis * len(METRICS)} thresholds"
            f" in {time.perf_counter() - t0:.1f}s (COPY, VACUUM ANALYZE)"
        )
        folder = bench.workdir / "prometheus"
        folder.mkdir()
        scrape = (
            f"global: {{scrape_interval: {args.step:g}s, scrape_timeout: {args.step:g}s}}\n"
            "scrape_configs:\n  - job_name: capacity\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{exporter_port}']}}]\n"
        )
        async with Prometheus(scrape, folder) as prometheus:
            t0 = time.perf_counter()
            # The first pass reaches look_back steps behind the settled grid point: that far back
            # must be stored already, so every instant it asks for has a value.
            scrapes = args.look_back + 3
            await until_scraped(prometheus.base, args.cis, scrapes, args.step)
            print(
                f"Prometheus scraped {args.cis * len(METRICS)} series {scrapes} times"
                f" in {time.perf_counter() - t0:.1f}s"
            )
            step = timedelta(seconds=args.step)
            sampling = capacity.Sampling(step=step, first_look_back=args.look_back, max_points=1000)
            first_now = datetime.now(UTC) - step  # settled: the scrape before it is stored
            first = await timed_pass(url, prometheus.base, sampling, first_now)
            after_first = await counts(url)
            steady = await timed_pass(url, prometheus.base, sampling, first_now + step)
            after_steady = await counts(url)
        series = args.cis * len(METRICS)
        over_warning = sum(1 for m in METRICS for v in table[m].values() if v >= WARNING)
        over_critical = sum(1 for m in METRICS for v in table[m].values() if v >= CRITICAL)
        instants = args.look_back + 1
        print(
            f"first pass ({instants} instants per series, cold): {first['seconds']:.2f}s, {first['samples']} samples,"
            f" {first['crossings']} crossings; {after_first}"
        )
        met = steady["seconds"] < TARGET_S
        print(
            f"steady pass (one new instant per series): {steady['seconds']:.2f}s, {steady['samples']} samples,"
            f" {steady['crossings']} crossings -> target < {TARGET_S:.0f}s {smoke.verdict(met, args)}"
        )
        results |= {
            "cis": args.cis,
            "series": series,
            "step_s": args.step,
            "first_pass": first | {"counts": after_first},
            "steady_pass": steady | {"counts": after_steady},
            "target_s": TARGET_S,
            "met": met,
        }
        expected = [
            ("first pass samples", first["samples"], series * instants),
            ("stored after the first pass", after_first["samples"], series * instants),
            ("breached events", after_first.get("capacity.threshold_breached.v1", 0), over_warning),
            ("CIs x metrics at critical", after_first.get("level_critical", 0), over_critical),
            ("steady pass samples", steady["samples"], series),
            ("steady pass crossings", steady["crossings"], 0),
            ("stored after the steady pass", after_steady["samples"], series * (instants + 1)),
            ("nothing stored twice", after_steady["distinct_samples"], after_steady["samples"]),
        ]
        problems += [f"{what}: {got}, expected {want}" for what, got, want in expected if got != want]
        if not (first["source_up"] and steady["source_up"]):
            problems.append("Prometheus did not answer a pass")
        for problem in problems:
            print(f"PROBLEM: {problem}")
        if args.json:
            await asyncio.to_thread(write_json, Path(args.json), results)
    finally:
        exporter.terminate()
        exporter.wait(10)
        await bench.cleanup(keep_logs=bool(problems))
    return smoke.finish(problems, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cis", type=int, default=10_000)
    parser.add_argument("--step", type=float, default=5.0, help="sampling interval = scrape interval (s)")
    parser.add_argument("--look-back", type=int, default=2, help="grid steps the first pass reaches back")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--exporter", type=int, help=argparse.SUPPRESS)  # the exporter process's port
    args = smoke.parse_args(parser, argv, cis=300, step=1.0, look_back=2)
    if args.exporter:
        serve_exporter(args.exporter, args.cis, args.seed)
        return 0
    return run_main(lambda: _main(args))


if __name__ == "__main__":
    sys.exit(main())
