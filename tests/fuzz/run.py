"""The longer fuzzing run (`make fuzz`): every service's API with many examples per operation,
figures per service. The same fuzzing as tests/fuzz/test_fuzz.py, on scratch databases and
queues of its own (removed at the end), against the test servers (tests/infra.py).

    uv run python -m tests.fuzz.run [--examples 100] [--seed N] [--services incident change]

Exit status 1 when any check failed; each failure is printed with a request that reproduces it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import warnings
from typing import Any

from hypothesis.errors import HypothesisDeprecationWarning

from shared.auth import mint_token
from tests.fuzz.apps import SERVICES, fuzz_app
from tests.fuzz.fuzzing import Report, examples_per_operation, fuzz, seed_from_environment, serving
from tests.infra import RETRY_DELAY_MS, Servers, cleanup, create_service_database, provide_servers

SECRET = "fuzzing-secret-for-this-run-0123456789abcdef"


def _settings_factory(servers: Servers) -> Any:
    def build(settings_cls: type[Any], database_url: str, **overrides: Any) -> Any:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": database_url,
            "amqp_url": servers.amqp_url,
            "events_exchange": servers.exchange,
            "queue_prefix": servers.queue_prefix,
            "jwt_secret": SECRET,
            "retry_delay_ms": RETRY_DELAY_MS,
            "relay_poll_interval_s": 0.1,
            "log_json": False,
            "log_level": "WARNING",
            "db_pool_size": 5,
        }
        return settings_cls(**{**values, **overrides})

    return build


async def _run(servers: Servers, services: list[str], examples: int, seed: int | None) -> list[Report]:
    reports = []
    headers = {"Authorization": f"Bearer {mint_token(SECRET, 'fuzzer', ['admin'])}"}
    for service in services:
        database_url = await create_service_database(servers, service, label="fuzz")
        app = fuzz_app(service, _settings_factory(servers), database_url, servers.new_queue_prefix(f"fuzz{service}"))

        def run(app: Any = app, service: str = service) -> Report:
            with serving(app) as schema:
                return fuzz(schema, service, headers=headers, examples=examples, seed=seed)

        report = await asyncio.to_thread(run)
        print(report.describe(), flush=True)
        reports.append(report)
    return reports


def print_table(reports: list[Report], examples: int, seed: int | None, seconds: float) -> None:
    print()
    print(f"examples per operation and mode: {examples}; seed: {seed if seed is not None else 'derandomised'}")
    print(f"{'service':<10} {'operations':>10} {'requests':>9} {'failures':>9} {'seconds':>8}")
    for r in reports:
        print(f"{r.service:<10} {r.operations:>10} {r.requests:>9} {len(r.findings):>9} {r.seconds:>8.1f}")
    total = sum(r.requests for r in reports)
    failures = sum(len(r.findings) for r in reports)
    operations = sum(r.operations for r in reports)
    print(f"{'all':<10} {operations:>10} {total:>9} {failures:>9} {seconds:>8.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=examples_per_operation(100))
    parser.add_argument("--seed", type=int, default=seed_from_environment(), help="default: derandomised")
    parser.add_argument("--services", nargs="+", choices=SERVICES, default=SERVICES)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", HypothesisDeprecationWarning)
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    with provide_servers() as servers:
        try:
            reports = asyncio.run(_run(servers, args.services, args.examples, args.seed))
        finally:
            asyncio.run(cleanup(servers, args.services))
    print_table(reports, args.examples, args.seed, time.monotonic() - started)
    return 1 if any(r.findings for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
