"""Every bench in bench/ runs in its smoke mode against the run's PostgreSQL and RabbitMQ, passes
its own correctness checks (counts, 2xx answers, answers equal to the reference) and leaves
nothing behind. No timing is asserted: a smoke run's figures mean nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path

import aio_pika
import asyncpg
import pytest
from aio_pika.exceptions import ChannelNotFoundEntity

from bench.__main__ import BENCHES, NOT_BENCHES, REPO, SMOKE_TIMEOUT_S, Smoke
from bench.infra import asyncpg_dsn
from bench.smoke import OK_LINE
from tests.infra import Servers

SERVICES = ("incident", "change", "config", "supplier", "reporting", "notify")


def test_every_module_of_bench_is_a_smoke_run_or_said_not_to_be_a_bench() -> None:
    modules = {p.stem for p in Path(REPO, "bench").glob("*.py") if not p.stem.startswith("_")}
    assert modules == {b.name for b in BENCHES} | set(NOT_BENCHES)


async def _leftovers(servers: Servers, run_id: str) -> list[str]:
    """Databases, exchange and queues of the bench run `run_id` still on the servers."""
    conn = await asyncpg.connect(asyncpg_dsn(servers.database_url))
    try:
        found = [
            r[0] for r in await conn.fetch("SELECT datname FROM pg_database WHERE strpos(datname, $1) > 0", run_id)
        ]
    finally:
        await conn.close()
    connection = await aio_pika.connect(servers.amqp_url)
    try:
        exchange = f"itsm.events.bench{run_id}"
        queues = [f"bench{run_id}.{service}" for service in SERVICES]
        for name, declare in [(exchange, "exchange"), *((q, "queue") for q in queues)]:
            channel = await connection.channel()  # a passive declare of a missing name closes it
            try:
                if declare == "exchange":
                    await channel.declare_exchange(name, passive=True)
                else:
                    await channel.declare_queue(name, passive=True)
                found.append(name)
            except ChannelNotFoundEntity:
                pass
    finally:
        await connection.close()
    return found


@pytest.mark.parametrize("smoke", BENCHES, ids=lambda b: b.name)
async def test_the_bench_runs_passes_its_checks_and_cleans_up(smoke: Smoke, servers: Servers) -> None:
    if missing := smoke.missing():
        pytest.skip(f"bench.{smoke.name} needs {', '.join(missing)}: apt-get install -y {' '.join(missing)}")
    run_id = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": servers.database_url,
        "BENCH_AMQP_URL": servers.amqp_url,
        "BENCH_RUN_ID": run_id,
    }
    done = await asyncio.to_thread(
        subprocess.run,
        smoke.command(),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_S,
        check=False,
    )
    output = (done.stdout + done.stderr)[-6000:]
    assert done.returncode == 0, output
    assert done.stdout.rstrip().endswith(OK_LINE), output
    assert await _leftovers(servers, run_id) == []
