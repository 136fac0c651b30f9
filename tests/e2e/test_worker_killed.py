"""A worker killed (SIGKILL) in the middle of a delivery loses nothing and applies nothing twice:
the broker redelivers what it had not acknowledged, and the inbox skips what was already applied.

The delivery is held in the middle of its handling by the database: the test locks the table the
handler writes, kills the worker while it waits for the lock, lets go, and starts the worker again.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from services.reporting.store.tables import event_log, inbox
from tests.infra import Servers, eventually, row_counts
from tests.replicas import connect_db, deployment, waiting_on_locks

pytestmark = pytest.mark.asyncio(loop_scope="session")

CREATED = 5


async def test_a_worker_killed_mid_message_applies_each_event_once_after_its_restart(
    servers: Servers, auth: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    async with deployment(servers, tmp_path, ["incident", "reporting"], label="killed") as deployed:
        api = deployed.add("incident", "api", env={"INCIDENT_RUN_WORKER": "true"})
        worker = deployed.add("reporting", "worker")
        async with httpx.AsyncClient(timeout=60) as http:
            await deployed.start_all(http)
            lock = await connect_db(deployed.database_urls["reporting"])
            try:
                transaction = lock.transaction()
                await transaction.start()
                await lock.execute("LOCK TABLE event_log IN EXCLUSIVE MODE")
                created = []
                for _ in range(CREATED):
                    body = {"title": "killed", "caller": "c", "impact": 3, "urgency": 3}
                    answer = await http.post(f"{api.url}/api/v1/incidents", json=body, headers=auth("agent"))
                    assert answer.status_code == 201, answer.text
                    created.append(answer.json()["id"])
                await eventually(lambda: waiting_on_locks(lock), within_s=30)  # a delivery in hand
                worker.send(signal.SIGKILL)
                assert await worker.exit_status() == -signal.SIGKILL
                await transaction.rollback()
            finally:
                await lock.close()
            assert await row_counts(deployed.database_urls["reporting"], event_log) == (0,)

            worker.start()
            await worker.until_ready(http)

            async def applied() -> None:
                assert await row_counts(deployed.database_urls["reporting"], event_log, inbox) == (CREATED, CREATED)
                assert await deployed.queue_counts("reporting") == (0, 1)

            await eventually(applied, within_s=30, interval=0.2)
            engine_url = deployed.database_urls["reporting"]
            conn = await connect_db(engine_url)
            try:
                subjects = [r["subject"] for r in await conn.fetch("SELECT subject FROM event_log")]
            finally:
                await conn.close()
            assert sorted(subjects) == sorted(created)  # each once
