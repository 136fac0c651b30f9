"""Every benchmark in bench/, or its smoke run (`make bench-smoke`; bench/README.md).

    uv run python -m bench --smoke [--only cmdb,repair]   # each bench's --smoke, one after the other
    uv run python -m bench                                # list the benches and how to run them

Each smoke run is a subprocess `python -m bench.<name> --smoke` against BENCH_DATABASE_URL and
BENCH_AMQP_URL; it exits 1 on any correctness problem (a count that does not add up, a non-2xx
answer, an answer that differs from the reference) and judges no timing. A bench that needs a
program missing here (wrk) is skipped, and said so. Exit status 1 when any smoke run failed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.smoke import OK_LINE

REPO = Path(__file__).resolve().parent.parent
SMOKE_TIMEOUT_S = 300.0
"""A bound on one smoke run (they take seconds to tens of seconds): a hang fails, it never blocks CI."""


@dataclass(frozen=True)
class Smoke:
    name: str  # the module bench.<name>
    what: str
    needs: tuple[str, ...] = ()  # programs it runs (Debian packages of the same name)

    def missing(self) -> list[str]:
        return [program for program in self.needs if shutil.which(program) is None]

    def command(self) -> list[str]:
        return [sys.executable, "-m", f"bench.{self.name}", "--smoke"]


BENCHES = (
    Smoke(
        "create_incident", "incident create: propagation to reporting, then throughput against the baseline", ("wrk",)
    ),
    Smoke("alert_storm", "Alertmanager webhooks at 500 alerts/s over 200 fingerprints, repeats and resolves"),
    Smoke("change", "change conflicts at scale, change -> CMDB propagation"),
    Smoke("cmdb", "CMDB impact analysis and discovery"),
    Smoke("incident_list", "the incident list over many incidents"),
    Smoke("reporting", "reporting's projection throughput and reports"),
    Smoke("repair", "`itsm repair` over many CIs"),
    Smoke("sla_watcher", "the SLA watcher's passes"),
    Smoke("sqlite_writes", "supplier on a SQLite file, mixed load"),
    Smoke("slow_clients", "/readyz while stalled connections wait for the header deadline"),
    Smoke("webhooks", "notify's webhook deliveries to a real receiver: one replica, then two"),
    Smoke("capacity", "a capacity pass over 10,000 CIs x 3 metrics against a local Prometheus", ("prometheus",)),
)

NOT_BENCHES = {
    "propagation": "part 1 of create_incident (its smoke runs it)",
    "throughput": "part 2 of create_incident (its smoke runs it)",
    "baseline_app": "the baseline app that throughput measures against",
    "infra": "scratch databases, broker names, server processes",
    "openloop": "the open-loop HTTP client of the benches",
    "wrk": "runs wrk with post.lua",
    "reporting_data": "reporting's data set",
    "smoke": "the --smoke flag",
    "profile_create": "py-spy on the incident create under wrk, CPU per create by layer (needs py-spy)",
    "mutation": "mutation testing (`make mutation`), tested by tests/bench/test_mutation_proposals.py",
}
"""Modules of bench/ that are not benches of their own, and why."""


def run_smoke(smoke: Smoke, *, timeout_s: float = SMOKE_TIMEOUT_S) -> tuple[str, str]:
    """('passed' | 'failed' | 'skipped', what to show)."""
    if missing := smoke.missing():
        return "skipped", f"{', '.join(missing)} not installed (apt-get install -y {' '.join(missing)})"
    try:
        done = subprocess.run(smoke.command(), cwd=REPO, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as hung:
        output = (hung.stdout or b"").decode(errors="replace") if isinstance(hung.stdout, bytes) else hung.stdout or ""
        return "failed", f"did not finish within {timeout_s:.0f}s\n{output[-4000:]}"
    output = done.stdout + done.stderr
    if done.returncode != 0 or OK_LINE not in done.stdout:
        return "failed", f"exit status {done.returncode}\n{output[-4000:]}"
    return "passed", ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="run every bench's smoke mode")
    parser.add_argument("--only", default="", help="comma-separated bench names")
    args = parser.parse_args(argv)
    only = {name for name in args.only.split(",") if name}
    unknown = only - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"no such bench: {', '.join(sorted(unknown))} (known: {', '.join(b.name for b in BENCHES)})")
    chosen = [b for b in BENCHES if not only or b.name in only]
    if not args.smoke:
        for b in chosen:
            print(f"uv run python -m bench.{b.name:<16} {b.what}")
        print("\n`make bench` runs bench.create_incident; `make bench-smoke` the smoke run of them all.")
        return 0
    failed = []
    for b in chosen:
        started = time.monotonic()
        print(f"smoke {b.name} ...", flush=True)
        outcome, detail = run_smoke(b)
        print(f"smoke {b.name}: {outcome} in {time.monotonic() - started:.0f}s", flush=True)
        if detail:
            print("  " + detail.replace("\n", "\n  "), flush=True)
        if outcome == "failed":
            failed.append(b.name)
    print(f"smoke runs failed: {', '.join(failed)}" if failed else "every smoke run passed or was skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
