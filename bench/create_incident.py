"""The whole incident-create benchmark (`make bench`): both parts on one set of servers.

1. `bench.propagation`: create -> visible in reporting at a steady open-loop rate (100/s, 20 s);
2. `bench.throughput`: create throughput with wrk, the suite against the raw-asyncpg baseline
   (3 rounds of 12 s at -c32 after a warm-up; medians, ratio, p50/p99, non-2xx).

It starts its own scratch databases, exchange, queues and uvicorn processes on 127.0.0.1 and
removes them at the end (also on Ctrl-C). Every run is bounded in time.

    uv run python -m bench.create_incident [--json results.json] [--strict] [--smoke]

It ends with every target, the figure measured and whether it was met (a smoke run judges none).

Exit status: 1 when a correctness check fails (a non-2xx answer, a lost event, row counts that
do not add up); with --strict also when a target (ratio >= 0.5, p99 < 100 ms) is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bench import propagation, smoke, throughput
from bench.infra import Bench, machine_info, print_machine, run_main, running_stack
from bench.wrk import require_wrk


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Every target of the parts that ran: (what, the figure measured, met)."""
    out = []
    if "throughput" in results:
        ratio = results["throughput"]["ratio"]
        out.append(
            (
                f"create throughput, suite / baseline in the same run >= {throughput.TARGET_RATIO}",
                f"{ratio:.3f} (per round {results['throughput']['pair_ratios']})",
                ratio >= throughput.TARGET_RATIO,
            )
        )
    if "propagation" in results:
        p99 = results["propagation"]["visible_ms"]["p99"]
        out.append(
            (
                f"create -> visible in reporting, p99 < {propagation.TARGET_P99_MS:g} ms",
                f"{p99:.1f} ms",
                p99 < propagation.TARGET_P99_MS,
            )
        )
    return out


async def _main(args: argparse.Namespace) -> int:
    if not args.skip_throughput:
        require_wrk()  # before anything starts: the throughput part cannot run without it
    bench = Bench()
    results: dict[str, Any] = {"command": " ".join(["python -m bench.create_incident", *sys.argv[1:]])}
    completed = False
    problems: list[str] = []
    try:
        results["machine"] = await machine_info(bench)
        print_machine(results["machine"])
        async with running_stack(bench) as stack:
            if not args.skip_propagation:
                results["propagation"] = await propagation.measure(stack, args)
            if not args.skip_throughput:
                results["throughput"] = await throughput.measure(stack, args)
        completed = True
    finally:
        problems = [p for part in ("propagation", "throughput") for p in results.get(part, {}).get("problems", [])]
        await bench.cleanup(keep_logs=not completed or bool(problems))

    print()
    print("== results ==")
    if "throughput" in results:
        throughput.print_table(results["throughput"], args)
    if "propagation" in results:
        propagation.print_table(results["propagation"], args)
    print()
    missed = False
    for what, figure, met in targets(results):
        print(f"TARGET {what}: {figure}, {smoke.verdict(met, args)}")
        missed |= not met
    for problem in problems:
        print("PROBLEM:", problem)
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=2, default=str) + "\n")
        print(f"results written to {args.json}")
    if problems or (missed and args.strict and not args.smoke):
        return 1
    return smoke.finish(problems, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    throughput.add_arguments(parser)
    propagation.add_arguments(parser)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-propagation", action="store_true")
    parser.add_argument("--json", metavar="PATH", help="also write every figure (per run) as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = smoke.parse_args(parser, **throughput.SMOKE, **propagation.SMOKE)
    sys.exit(run_main(lambda: _main(args)))


if __name__ == "__main__":
    main()
