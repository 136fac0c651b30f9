"""Where the incident create spends its CPU: py-spy on the incident process while wrk saturates it.

    uv run --with py-spy python -m bench.profile_create [--seconds 15] [--raw var/create.txt] [--svg var/create.svg]

It starts the same stack as `bench.throughput` (incident with its relay, reporting, tracing on,
not exported), warms the suite up with wrk, then records the incident process with py-spy
(`py-spy record --format raw`: folded stacks, no idle samples) during a wrk run of the same
length, and prints two tables, both in CPU ms per create (the process's CPU over the run,
measured from /proc, shared out by samples):

- by **layer**: the innermost frame that belongs to a known library or part of the suite
  (what code burns the CPU: asyncpg, SQLAlchemy, OpenTelemetry, pydantic, FastAPI/Starlette, ...);
- by **step** of the create: the outermost suite frame below the route (inclusive: the SLA
  clocks with the SQL they run, the numbered insert, the outbox, the relay, ...).

py-spy needs ptrace rights (root, or `kernel.yama.ptrace_scope=0`). Not a bench of its own:
it runs no correctness check beyond wrk's (listed in bench/__main__.py's NOT_BENCHES).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import sys
from pathlib import Path

from bench.infra import Bench, machine_info, print_machine, run_main, running_stack
from bench.throughput import PATH
from bench.wrk import run_wrk

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # (layer, substrings of a frame's file, as py-spy --full-filenames writes it): the first
    # match from the innermost frame wins.
    ("asyncpg (protocol, codecs)", ("/asyncpg/",)),
    ("OpenTelemetry (spans, context, metrics, instrumentation)", ("/opentelemetry/",)),
    ("SQLAlchemy (compile, execute, pool, rows)", ("/sqlalchemy/", "/greenlet/")),
    ("pydantic (validation, serialisation)", ("/pydantic/", "/pydantic_core/")),
    ("FastAPI / Starlette (routing, deps, responses)", ("/fastapi/", "/starlette/")),
    ("uvicorn / httptools (HTTP)", ("/uvicorn/", "/httptools/")),
    ("aio-pika / aiormq (relay publishing)", ("/aio_pika/", "/aiormq/", "/pamqp/")),
    ("JWT (token check)", ("/jwt/",)),
    ("json", ("/json/",)),
    ("asyncio / uvloop (loop, tasks)", ("/asyncio/", "/uvloop/")),
    ("suite: outbox and relay", ("/shared/outbox.py", "/shared/relay")),
    ("suite: SLA clocks", ("/sla.py", "/sla_calendars.py")),
    ("suite: authorisation", ("/shared/auth", "/api/deps.py", "/shared/policy")),
    ("suite: everything else", ("/services/", "/shared/")),
)

STEPS: tuple[tuple[str, str], ...] = (
    # (step, a function name, as py-spy prints it): the outermost match wins.
    ("relay (publishing the outbox)", "relay_once"),
    ("SLA clocks (sla.track_incident)", "track_incident"),
    ("CI look-up (KnownCIs.affected_ci)", "affected_ci"),
    ("numbered insert (add_numbered)", "add_numbered"),
    ("outbox rows and commit (unit of work)", "__aexit__"),
    ("commit", "commit"),
    ("begin / connection checkout", "__aenter__"),
    ("consumer: analysis of incident.created (in this process)", "on_incident_created"),
    ("consumer: inbox claim (de-duplication)", "claim"),
    ("domain: Incident.open", "open"),
    ("answer (IncidentRead, JSON)", "_created"),
    ("request validation and dependencies", "solve_dependencies"),
    ("response serialisation", "serialize_response"),
)


def _frames(stack: str) -> list[tuple[str, str]]:
    """(function, file) per frame, outermost first; py-spy writes `function (file:line)`."""
    out = []
    for frame in stack.split(";"):
        name, _, rest = frame.partition(" (")
        out.append((name.strip(), rest.rsplit(":", 1)[0]))
    return out


def layer_of(frames: list[tuple[str, str]]) -> str:
    for _, file in reversed(frames):
        for layer, marks in LAYERS:
            if any(m in file for m in marks):
                return layer
    return "other (interpreter, C extensions)"


def step_of(frames: list[tuple[str, str]]) -> str:
    in_suite = [name for name, file in frames if _suite(file)]
    for name in in_suite:
        for step, function in STEPS:
            if name.rpartition(".")[2] == function:
                return step
    if not frames or "greenlet" in frames[0][1] or "/sqlalchemy/" in frames[0][1]:
        return "SQL on SQLAlchemy's greenlet (the step that ran it is not on this stack)"
    return "outside the suite's steps (server, middleware, loop)"


def _suite(file: str) -> bool:
    return "site-packages" not in file and ("/services/" in file or "/shared/" in file)


def summarise(folded: str, cpu_ms_per_create: float) -> dict[str, dict[str, float]]:
    """Per layer and per step: the CPU ms per create (samples shared out of the measured figure)."""
    layers: collections.Counter[str] = collections.Counter()
    steps: collections.Counter[str] = collections.Counter()
    total = native = 0
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        if not stack.strip():
            native += int(count)
            continue
        frames = _frames(stack)
        layers[layer_of(frames)] += int(count)
        steps[step_of(frames)] += int(count)
        total += int(count)
    scale = cpu_ms_per_create / total if total else 0.0
    return {
        "layers": {k: round(v * scale, 3) for k, v in layers.most_common()},
        "steps": {k: round(v * scale, 3) for k, v in steps.most_common()},
        "samples": {"total": float(total), "native": float(native)},
    }


def print_summary(summary: dict[str, dict[str, float]], cpu_ms: float) -> None:
    for title, key in (("layer (innermost known frame)", "layers"), ("step of the create (inclusive)", "steps")):
        print(f"\n| {title} | CPU ms per create | share |")
        print("|---|---:|---:|")
        for name, ms in summary[key].items():
            print(f"| {name} | {ms:.3f} | {100 * ms / cpu_ms if cpu_ms else 0:.0f} % |")


async def _main(args: argparse.Namespace) -> int:
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("py-spy is not installed: uv run --with py-spy python -m bench.profile_create")
    bench = Bench()
    try:
        print_machine(await machine_info(bench))
        async with running_stack(bench) as stack:
            token = stack.bench.token("agent")
            url = stack.incident.base_url + PATH
            await run_wrk(url, token=token, duration_s=args.warmup, connections=args.connections)
            await stack.drain()
            raw = Path(args.raw)
            raw.parent.mkdir(parents=True, exist_ok=True)
            record = ["record", "--pid", str(stack.incident.pid), "--rate", str(args.rate), "--nonblocking"]
            record += ["--full-filenames"]
            record += ["--duration", str(int(args.seconds))]
            spy = await asyncio.create_subprocess_exec(
                py_spy, *record, "--format", "raw", "-o", str(raw), stdout=asyncio.subprocess.DEVNULL
            )
            window = stack.cpu_window()
            result = await run_wrk(url, token=token, duration_s=args.seconds, connections=args.connections)
            cpu = window.stop()
            await spy.wait()
            if args.svg:
                await stack.drain()
                spy = await asyncio.create_subprocess_exec(
                    py_spy, *record, "-o", args.svg, stdout=asyncio.subprocess.DEVNULL
                )
                await run_wrk(url, token=token, duration_s=args.seconds, connections=args.connections)
                await spy.wait()
            await stack.drain()
    finally:
        await bench.cleanup()
    cpu_ms = 1000 * cpu["incident"] * cpu["wall_s"] / result.requests
    print(
        f"\nwrk -c{args.connections} -d{args.seconds:g}s: {result.rps:.0f} creates/s, p50 {result.p50_ms:.1f} ms,"
        f" p99 {result.p99_ms:.1f} ms, non-2xx {result.non2xx}; incident process {cpu['incident']:.2f} cores,"
        f" {cpu_ms:.3f} ms CPU per create (relay included); load average {os.getloadavg()[0]:.2f}"
    )
    summary = summarise(await asyncio.to_thread(raw.read_text), cpu_ms)
    print(
        f"py-spy samples: {summary['samples']['total']:.0f} at {args.rate}/s with a Python stack, shared out above;"
        f" {summary['samples']['native']:.0f} with none (uvloop's C loop, mostly waiting)"
        f" left out; folded stacks in {raw}"
    )
    print_summary(summary, cpu_ms)
    return 1 if result.non2xx or result.errors else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples a second")
    parser.add_argument("--raw", default="var/profile_create.txt", help="folded stacks (py-spy --format raw)")
    parser.add_argument("--svg", default="", help="also a flame graph of a second run, to this file")
    args = parser.parse_args()
    sys.exit(run_main(lambda: _main(args)))


if __name__ == "__main__":
    main()
