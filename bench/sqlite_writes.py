"""The supplier service on a SQLite file (the one-machine default) under a mixed load: creates,
scorecard reads and reviews from concurrent clients, with `/readyz` probed meanwhile.

    uv run python -m bench.sqlite_writes              # 8 clients, 10 s
    uv run python -m bench.sqlite_writes --smoke      # 4 clients, 2 s: fails on any refused or stuck request

The app runs in this process (no HTTP server: the figures are the service and its database, not a
network stack), with its relay and consumer off; it needs the RabbitMQ of `BENCH_AMQP_URL` only to
be ready. Each request is bounded (`--request-timeout`): one stuck on the database lock counts as
stuck instead of stalling the run. Exit status 1 when any request failed or got stuck.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from bench import smoke
from bench.infra import AMQP_URL, JWT_SECRET
from services.supplier.app import create_app
from services.supplier.settings import SupplierSettings
from shared.auth import mint_token
from shared.migrations import upgrade

Call = Callable[[httpx.AsyncClient, random.Random], Awaitable[httpx.Response]]


def _headers(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(JWT_SECRET, 'bench', [role])}"}


MANAGER = _headers("supplier_manager")
READER = _headers("auditor")


async def _create(client: httpx.AsyncClient, _: random.Random) -> httpx.Response:
    body = {"name": f"Bench {uuid.uuid4().hex[:8]}", "category": "services"}
    return await client.post("/api/v1/suppliers", json=body, headers=MANAGER)


def _on_a_supplier(suppliers: list[str], action: Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]) -> Call:
    async def call(client: httpx.AsyncClient, rng: random.Random) -> httpx.Response:
        return await action(client, rng.choice(suppliers))

    return call


async def _scorecard(client: httpx.AsyncClient, supplier_id: str) -> httpx.Response:
    return await client.get(f"/api/v1/suppliers/{supplier_id}/scorecard?period=2026-10", headers=READER)


async def _review(client: httpx.AsyncClient, supplier_id: str) -> httpx.Response:
    body = {"held_on": "2026-11-20", "period": "2026-10", "participants": ["olga"], "findings": "bench"}
    return await client.post(f"/api/v1/suppliers/{supplier_id}/reviews", json=body, headers=MANAGER)


async def run(clients: int, seconds: float, request_timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="itsm-bench-sqlite-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder)}/supplier.db"
        await asyncio.to_thread(upgrade, "supplier", url)
        settings = SupplierSettings(
            environment="test",
            database_url=url,
            amqp_url=AMQP_URL,
            jwt_secret=JWT_SECRET,
            run_worker=False,
            log_json=False,
            log_level="WARNING",
        )
        async with LifespanManager(create_app(settings), startup_timeout=30, shutdown_timeout=60) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                return await _load(client, clients, seconds, request_timeout)


async def _load(client: httpx.AsyncClient, clients: int, seconds: float, request_timeout: float) -> dict[str, Any]:
    suppliers = [(await _create(client, random.Random())).json()["id"] for _ in range(20)]
    mix: list[tuple[str, Call]] = [
        ("create", _create),
        ("scorecard", _on_a_supplier(suppliers, _scorecard)),
        ("review", _on_a_supplier(suppliers, _review)),
    ]
    latencies: dict[str, list[float]] = defaultdict(list)
    failed: dict[str, int] = defaultdict(int)
    stuck: dict[str, int] = defaultdict(int)
    readyz: list[tuple[float, int]] = []
    deadline = time.monotonic() + seconds

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            kind, call = rng.choice(mix)
            started = time.monotonic()
            try:
                response = await asyncio.wait_for(call(client, rng), request_timeout)
            except TimeoutError:
                stuck[kind] += 1
                continue
            if response.is_success:
                latencies[kind].append(time.monotonic() - started)
            else:
                failed[kind] += 1

    async def probe() -> None:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                status = (await asyncio.wait_for(client.get("/readyz"), request_timeout)).status_code
            except TimeoutError:
                status = 0
            readyz.append((time.monotonic() - started, status))
            await asyncio.sleep(0.2)

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(clients)), probe())
    elapsed = time.monotonic() - started
    figures: dict[str, Any] = {"clients": clients, "seconds": round(elapsed, 1), "kinds": {}}
    for kind, _ in mix:
        done = sorted(latencies[kind])
        figures["kinds"][kind] = {
            "ok_per_s": round(len(done) / elapsed, 1),
            "p50_ms": round(1000 * statistics.median(done), 1) if done else None,
            "p99_ms": round(1000 * done[int(0.99 * (len(done) - 1))], 1) if done else None,
            "failed": failed[kind],
            "stuck": stuck[kind],
        }
    figures["readyz"] = {
        "probes": len(readyz),
        "not_ready": sum(1 for _, status in readyz if status != 200),
        "max_ms": round(1000 * max((t for t, _ in readyz), default=0), 1),
    }
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--request-timeout", type=float, default=10.0, help="a request still waiting is 'stuck'")
    args = smoke.parse_args(parser, clients=4, seconds=2.0)
    clients, seconds = args.clients, args.seconds
    figures = asyncio.run(run(clients, seconds, args.request_timeout))
    print(f"supplier on SQLite, {figures['clients']} clients, {figures['seconds']} s")
    print(f"{'request':<10} {'ok/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7} {'stuck':>6}")
    for kind, row in figures["kinds"].items():
        print(
            f"{kind:<10} {row['ok_per_s']:>8} {row['p50_ms'] or '-':>8} {row['p99_ms'] or '-':>8}"
            f" {row['failed']:>7} {row['stuck']:>6}"
        )
    ready = figures["readyz"]
    print(f"/readyz: {ready['probes']} probes, {ready['not_ready']} not ready, slowest {ready['max_ms']} ms")
    broken = ready["not_ready"] + sum(row["failed"] + row["stuck"] for row in figures["kinds"].values())
    return smoke.finish(broken, args)


if __name__ == "__main__":
    sys.exit(main())
