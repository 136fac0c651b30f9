"""SIGTERM drains a service process and it exits 0: an API (`itsm serve`) finishes its in-flight
requests, a worker (`itsm worker`) the deliveries it holds and its outbox; a process whose broker
stopped answering still stops, within its bounds.

The requests and deliveries are held in flight by the database itself: the test locks the table
they write, sends SIGTERM, and lets go of the lock.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from services.reporting.store.tables import event_log
from tests.infra import Servers, eventually, row_counts
from tests.replicas import connect_db, deployment, waiting_on_locks
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]
HELD = 5
INCIDENT = {"title": "drain", "caller": "c", "impact": 3, "urgency": 3}


async def _refuses(url: str) -> None:
    async with httpx.AsyncClient(timeout=2) as fresh:  # a new connection, not a kept-alive one
        try:
            await fresh.get(f"{url}/healthz")
        except httpx.ConnectError:
            return
    raise AssertionError(f"{url} still accepts connections")


async def test_sigterm_lets_an_api_finish_its_in_flight_requests_flush_its_outbox_and_exit_0(
    servers: Servers, auth: Auth, tmp_path: Path
) -> None:
    async with deployment(servers, tmp_path, ["incident"], label="drainapi") as deployed:
        api = deployed.add("incident", "api", env={"INCIDENT_RUN_WORKER": "true"})
        async with httpx.AsyncClient(timeout=60) as http:
            await deployed.start_all(http)
            lock = await connect_db(deployed.database_urls["incident"])
            try:
                transaction = lock.transaction()
                await transaction.start()
                await lock.execute("LOCK TABLE incident IN EXCLUSIVE MODE")  # reads go on, writes wait
                creating = [
                    asyncio.create_task(http.post(f"{api.url}/api/v1/incidents", json=INCIDENT, headers=auth("agent")))
                    for _ in range(HELD)
                ]
                await eventually(lambda: waiting_on_locks(lock, 1), within_s=30)
                api.send(signal.SIGTERM)
                await eventually(lambda: _refuses(api.url), within_s=10)  # no new connection is taken
                assert api.running  # while the requests in flight wait for the lock
                await transaction.rollback()
            finally:
                await lock.close()
            answers = await asyncio.gather(*creating)
        assert [a.status_code for a in answers] == [201] * HELD, [a.text for a in answers]
        assert await api.exit_status() == 0, api.output()
        assert await deployed.outbox_pending("incident") == 0


async def test_sigterm_lets_a_worker_flush_its_outbox_and_finish_the_deliveries_it_holds_and_exit_0(
    servers: Servers, auth: Auth, tmp_path: Path
) -> None:
    """The incident worker's relay is told to look only once an hour: what the API wrote is still
    pending when it gets SIGTERM, and it publishes it before exiting. The reporting worker gets those
    events while the test holds its event log locked: it gets SIGTERM holding them, and applies each
    before it exits."""
    async with deployment(servers, tmp_path, ["incident", "reporting"], label="drainworker") as deployed:
        api = deployed.add("incident", "api")
        relay = deployed.add("incident", "worker", env={"ITSM_RELAY_POLL_INTERVAL_S": "3600"})
        consumer = deployed.add("reporting", "worker")
        async with httpx.AsyncClient(timeout=60) as http:
            await deployed.start_all(http)
            lock = await connect_db(deployed.database_urls["reporting"])
            try:
                transaction = lock.transaction()
                await transaction.start()
                await lock.execute("LOCK TABLE event_log IN EXCLUSIVE MODE")
                for _ in range(HELD):
                    answer = await http.post(f"{api.url}/api/v1/incidents", json=INCIDENT, headers=auth("agent"))
                    assert answer.status_code == 201, answer.text
                assert await deployed.outbox_pending("incident") == HELD  # nothing published them yet

                assert await relay.stop() == 0, relay.output()
                assert await deployed.outbox_pending("incident") == 0  # flushed on the way out

                await eventually(lambda: waiting_on_locks(lock, 1), within_s=30)  # a delivery in hand
                consumer.send(signal.SIGTERM)
                await asyncio.sleep(1)  # it is draining
                assert consumer.running
                await transaction.rollback()
            finally:
                await lock.close()
            assert await consumer.exit_status() == 0, consumer.output()
        (logged,) = await row_counts(deployed.database_urls["reporting"], event_log)
        assert logged == HELD
        assert await deployed.queue_counts("reporting") == (0, 0)  # none left to redeliver


async def test_sigterm_stops_a_service_whose_broker_stopped_answering(
    servers: Servers, auth: Auth, tmp_path: Path
) -> None:
    """The broker goes silent without closing the connection (a partition, a wedged broker): each
    closing handshake would wait for an answer until the heartbeat gave up, minutes later, and the
    process with it. Bounded, the process exits 0; what it could not publish stays in the outbox."""
    proxy = TcpProxy.to_broker(servers.amqp_url)
    await proxy.start()
    try:
        async with deployment(servers, tmp_path, ["incident"], label="drainsilent") as deployed:
            env = {"ITSM_AMQP_URL": proxy.url_for(servers.amqp_url), "INCIDENT_RUN_WORKER": "true"}
            api = deployed.add("incident", "api", env=env)
            async with httpx.AsyncClient(timeout=60) as http:
                await deployed.start_all(http)
                proxy.freeze()
                answer = await http.post(f"{api.url}/api/v1/incidents", json=INCIDENT, headers=auth("agent"))
                assert answer.status_code == 201, answer.text
            assert await api.stop() == 0, api.output()
            assert "no answer from the broker" in api.output()
            assert await deployed.outbox_pending("incident") == 1
    finally:
        await proxy.cut()


async def _listener_closed(port: int) -> None:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return
    writer.close()
    raise AssertionError("the listener still accepts connections")


async def test_a_request_on_a_connection_accepted_just_before_sigterm_is_answered(
    servers: Servers, tmp_path: Path
) -> None:
    """A client that connected just before SIGTERM and sends its request after the listener closed
    (on its way, as far as the server could tell) gets its answer, not a dropped connection it
    could not tell from a lost request."""
    async with deployment(servers, tmp_path, ["incident"], label="drainfresh") as deployed:
        api = deployed.add("incident", "api")
        async with httpx.AsyncClient(timeout=60) as http:
            await deployed.start_all(http)
        reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
        try:
            api.send(signal.SIGTERM)
            await eventually(lambda: _listener_closed(api.port), within_s=5, interval=0.005)  # shutdown has begun
            writer.write(b"GET /healthz HTTP/1.1\r\nhost: drain\r\n\r\n")
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), timeout=10)  # to the end: closed after it
        finally:
            writer.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer
        assert await api.exit_status() == 0
