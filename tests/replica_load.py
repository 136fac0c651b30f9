"""Every service as API replicas and workers on PostgreSQL under a steady mixed load, optionally
restarted one process at a time with SIGTERM (a rolling restart), and what it counts.

`run_replicas` is the one harness: tests/e2e/test_replicas.py runs it short inside the test suite,
`make replicas` (bench/replicas.py) long. The load client spreads each service's requests over its
API replicas and, on a refused connection, sends the request to the next one; it never sends a
request again once it may have been handled, unless it is safe to repeat (GET, or a POST with an
`Idempotency-Key`), so every failure it counts is one a client would have seen.

The load, per user in a loop: an incident created (with an `Idempotency-Key`, sometimes sent to two
replicas at once) and assigned; a change created and submitted; a CI created, then edited by two
clients at once on two replicas with the same `If-Match` (exactly one may win); now and then a
supplier contract created and activated. Watchers run every second on every worker: the SLA watcher
(a 24x7 P5 policy of seconds, so each incident breaches), the contract expiry watcher (each contract
is created within its warning) and the report schedule (every report agreed at the start); the
capacity job every second on both config workers, against a real Prometheus scraping a gauge per CI
that cycles through ok, warning, critical and ok (tests/replica_capacity.py).

Beside that client, where Debian's `hey` is installed, hey creates incidents at each incident API
replica at a bounded rate through the load phase (tests/replica_hey.py): a load tool that knows
nothing of replicas, on a new connection per request, so any request it sent and got no answer
for is one the server dropped.

`run_replicas` records how long each phase took (`Counts.phases`): databases (created and migrated
once each, before any process starts), start, setup, restart, load, settle, count, stop.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from services.reporting.domain.definitions import DEFINITIONS
from tests.conftest import SERVICES
from tests.infra import Servers
from tests.replica_capacity import WORKER_ENV, CapacitySource, capacity_source, sampled_past_freeze
from tests.replica_capacity import set_up as set_up_capacity
from tests.replica_client import ReplicaClient
from tests.replica_counts import CREATED, Counts, count, report, settled
from tests.replica_discovery import discover_on_both_replicas
from tests.replica_hey import HEY, load_until
from tests.replicas import Deployment, ServiceProcess, connect_db, deployment, restart_waves

JOB_ENV = {
    "INCIDENT_SLA_WATCH_INTERVAL_S": "1",
    "SUPPLIER_CONTRACT_WATCH_INTERVAL_S": "1",
    "REPORTING_REPORT_SCHEDULE_INTERVAL_S": "1",
}
QUIETER = {"ITSM_METRICS_SAMPLE_INTERVAL_S": "5", "ITSM_RELAY_POLL_INTERVAL_S": "0.25"}
"""Twenty-four processes sampling their backlog gauges twice a second and polling their outboxes
ten times a second leave less of two cores to a process restarted among them (which took minutes
to import on a busy machine); nothing here reads the gauges, and the counts wait on conditions."""
POOLS = {"api": "2", "worker": "1"}
"""DB_POOL_SIZE per kind of process (each opens up to twice that): twenty processes stay within a
PostgreSQL's default 100 connections (at most 60), with room for the tests beside them."""
RESOLUTION_S = 4
"""The P5 resolution target (business seconds, 24x7): every incident of the load breaches it."""
ONE_OF_EACH = (
    "incident-api0",
    "incident-worker1",
    "change-worker0",
    "config-worker1",
    "supplier-api1",
    "reporting-worker0",
    "notify-worker1",
)
"""A rolling restart of at least one process of every service: the producer's API and worker (its
relay), the change and supplier relays and watchers, a config worker (the capacity job),
reporting's consumer and notify's. tests/e2e/test_replicas.py restarts these; `make replicas`
all twenty-four unless told `--restart-one-of-each`."""


@dataclass
class Created:
    ids: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in CREATED})


async def _setup(client: ReplicaClient) -> int:
    """The SLA policy and the report agreements; returns how many reports are agreed."""
    days = {day: {"start": "00:00", "end": "24:00"} for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    body = {"name": "24x7", "time_zone": "UTC", "working_hours": days}
    calendar = await client.expect(201, "incident", "POST", "/api/v1/sla/calendars", json=body)
    assert calendar is not None
    policy = {
        "name": "load P5",
        "priority": 5,
        "response_target_s": 2,
        "resolution_target_s": RESOLUTION_S,
        "warning_share": 0.5,
        "calendar_id": calendar["id"],
    }
    assert await client.expect(201, "incident", "POST", "/api/v1/sla/policies", json=policy) is not None
    agreed_at = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()
    for definition in DEFINITIONS:
        path = f"/api/v1/reports/{definition.name}/agreement"
        proposal = {"owner": "slm", "agreed_with": ["board"], "distribution_list": [], "reason": "replica load"}
        assert await client.expect(200, "reporting", "PUT", path, json=proposal) is not None
        agree = {"agreed_at": agreed_at, "reason": "agreed"}
        assert await client.expect(200, "reporting", "POST", f"{path}/agree", json=agree, headers={"If-Match": 'W/"1"'})
    return len(DEFINITIONS)


async def _user(client: ReplicaClient, counts: Counts, created: Created, supplier_id: str, stop: asyncio.Event) -> None:
    for turn in itertools.count():
        if stop.is_set():
            return
        incident = {"title": f"load {turn}", "caller": "c", "impact": 3, "urgency": 3}
        key = {"Idempotency-Key": str(uuid.uuid4())}
        if turn % 4 == 0:  # the same key to two replicas at once: one incident, the same answer twice
            both = await asyncio.gather(
                *(
                    client.call("incident", "POST", "/api/v1/incidents", json=incident, headers=key, replica=r)
                    for r in (0, 1)
                )
            )
            counts.idempotent_pairs += 1
            ids = {a.json()["id"] for a in both if a is not None and a.status_code == 201}
            if any(a is None for a in both):
                continue
            if len(ids) != 1 or any(a.status_code != 201 for a in both if a is not None):
                counts.idempotency_broken += 1
                counts.fail(f"idempotent pair: {[(a.status_code, a.text[:100]) for a in both if a is not None]}")
                continue
            made: dict[str, Any] | None = both[0].json() if both[0] is not None else None
        else:
            made = await client.expect(201, "incident", "POST", "/api/v1/incidents", json=incident, headers=key)
        if made is not None:
            created.ids["incident"].append(made["id"])
            await client.expect(
                200, "incident", "POST", f"/api/v1/incidents/{made['id']}/assign", json={"assignment_group": "web"}
            )
        change = await client.expect(
            201, "change", "POST", "/api/v1/changes", json={"title": f"load {turn}"}, headers=_key()
        )
        if change is not None:
            created.ids["change"].append(change["id"])
            await client.expect(200, "change", "POST", f"/api/v1/changes/{change['id']}/submit")
        ci = await client.expect(
            201,
            "config",
            "POST",
            "/api/v1/cis",
            json={"name": f"srv-{uuid.uuid4().hex[:8]}", "type": "server"},
            headers=_key(),
        )
        if ci is not None:
            created.ids["ci"].append(ci["id"])
            await _race(client, counts, ci["id"])
        if turn % 5 == 0:
            await _contract(client, created, supplier_id)
        if turn % 3 == 0:
            await discover_on_both_replicas(client, counts, created)


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _race(client: ReplicaClient, counts: Counts, ci_id: str) -> None:
    """Two edits of one version on two replicas at once: one is applied, the other answered 412."""
    path = f"/api/v1/cis/{ci_id}"
    answers = await asyncio.gather(
        *(
            client.call(
                "config", "PATCH", path, json={"description": f"edit {r}"}, headers={"If-Match": 'W/"1"'}, replica=r
            )
            for r in (0, 1)
        )
    )
    if any(a is None for a in answers):
        return
    counts.if_match_races += 1
    statuses = sorted(a.status_code for a in answers if a is not None)
    if statuses != [200, 412]:
        counts.lost_updates += 1
        counts.fail(f"If-Match race on {ci_id}: {statuses}")


async def _contract(client: ReplicaClient, created: Created, supplier_id: str) -> None:
    """A contract whose notice deadline is 10 days away (within the 30-day warning): due at once."""
    today = datetime.now(UTC).replace(microsecond=0)
    body = {
        "supplier_id": supplier_id,
        "title": f"contract {uuid.uuid4().hex[:8]}",
        "owner": "olga",
        "starts_on": (today - timedelta(days=30)).isoformat(),
        "ends_on": (today + timedelta(days=100)).isoformat(),
        "notice_period_days": 90,
        "targets": [{"priority": 3, "response_minutes": 60, "resolution_minutes": 1440}],
    }
    contract = await client.expect(201, "supplier", "POST", "/api/v1/contracts", json=body, headers=_key())
    if contract is not None:
        activated = await client.expect(200, "supplier", "POST", f"/api/v1/contracts/{contract['id']}/activate")
        if activated is not None:
            created.ids["contract"].append(contract["id"])


async def _rolling_restart(
    deployed: Deployment, counts: Counts, http: httpx.AsyncClient, only: Sequence[str] | None, *, together: bool
) -> None:
    """Each wave of processes (all, or those named in `only`, such as `incident-api0`) in turn:
    SIGTERM, the exit status kept, started again, ready, then the next wave."""

    async def restart(process: ServiceProcess) -> None:
        process.send(signal.SIGTERM)
        counts.restart_exit_statuses.append(await process.exit_status())
        process.start()
        await process.until_ready(http)
        counts.restarts += 1

    chosen = [p for p in deployed.processes if only is None or p.name in only]
    for wave in restart_waves(chosen, together=together):
        await asyncio.gather(*(restart(process) for process in wave))


async def run_replicas(
    servers: Servers,
    folder: Path,
    *,
    users: int = 4,
    duration_s: float = 30.0,
    restart: bool = True,
    restart_only: Sequence[str] | None = None,
    restart_together: bool = False,
    replicas: int = 2,
    hey: bool = HEY is not None,
) -> Counts:
    """Start every service as `replicas` API and worker processes, load them for at least
    `duration_s` (and until the rolling restart, if any, is done), let the suite settle, count."""
    counts = Counts()
    created = Created()
    mark = time.monotonic()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        counts.phases[name] = round(now - mark, 1)
        mark = now

    async with (
        deployment(servers, folder, SERVICES, label="replicas") as deployed,
        capacity_source(folder) as capacity,
    ):
        phase("databases")
        for service in SERVICES:
            env = {**JOB_ENV, **QUIETER, **(_capacity_env(capacity) if service == "config" else {})}
            for _ in range(replicas):
                for kind in ("api", "worker"):
                    deployed.add(service, kind, env={**env, "ITSM_DB_POOL_SIZE": POOLS[kind]})
        client = ReplicaClient(deployed, counts)
        async with client.http, httpx.AsyncClient(timeout=30) as probes:
            await deployed.start_all(probes)
            phase("start")
            reports = await _setup(client)
            supplier = await client.expect(
                201, "supplier", "POST", "/api/v1/suppliers", json={"name": "Load", "category": "cloud"}
            )
            assert supplier is not None
            await set_up_capacity(client.expect, capacity)
            phase("setup")
            stop = asyncio.Event()
            started = time.monotonic()
            users_running = [
                asyncio.create_task(_user(client, counts, created, supplier["id"], stop)) for _ in range(users)
            ]
            if hey:  # a load tool's creates beside the client's, at the incident APIs
                token = client.headers["Authorization"].removeprefix("Bearer ")
                urls = [api.url for api in deployed.of("incident", "api")]
                users_running.append(asyncio.create_task(load_until(stop, urls, token, counts.hey)))
            try:
                if restart:
                    await _rolling_restart(deployed, counts, probes, restart_only, together=restart_together)
                    phase("restart")
                await asyncio.sleep(max(0.0, duration_s - (time.monotonic() - started)))
            finally:
                stop.set()
                await asyncio.gather(*users_running)
            capacity.freeze()  # ok from now on: the last crossing is a clearing
            phase("load")
            load_ended = time.monotonic()
            await _capacity_sampled(deployed, capacity)
            await asyncio.sleep(max(0.0, RESOLUTION_S + 3 - (time.monotonic() - load_ended)))
            await settled(deployed)
            phase("settle")
        await count(deployed, counts, created.ids, reports, capacity)
        phase("count")
    phase("stop")
    return counts


def _capacity_env(capacity: CapacitySource) -> dict[str, str]:
    return {"CONFIG_PROMETHEUS_URL": capacity.url, **WORKER_ENV}


async def _capacity_sampled(deployed: Deployment, capacity: CapacitySource) -> None:
    conn = await connect_db(deployed.database_urls["config"])
    try:
        await sampled_past_freeze(conn, capacity)
    finally:
        await conn.close()


def main() -> None:
    """`make replicas`: the long run, on the servers the tests use (ITSM_TEST_DATABASE_URL, ITSM_TEST_AMQP_URL)."""
    import argparse
    import json
    import sys
    import tempfile

    from tests.infra import cleanup, provide_servers

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=6, help="Concurrent users of the load")
    parser.add_argument("--duration", type=float, default=120.0, help="Seconds of load at least")
    parser.add_argument("--no-restart", action="store_true", help="No rolling restart, only the load")
    parser.add_argument(
        "--restart-one-of-each",
        action="store_true",
        help=f"Restart only {', '.join(ONE_OF_EACH)} (the short test's set), not every process",
    )
    parser.add_argument(
        "--restart-together", action="store_true", help="Restart in waves that leave each deployment a replica"
    )
    parser.add_argument("--json", type=Path, help="Write the counts here too")
    args = parser.parse_args()

    async def run() -> Counts:
        with provide_servers() as servers, tempfile.TemporaryDirectory() as folder:
            try:
                return await run_replicas(
                    servers,
                    Path(folder),
                    users=args.users,
                    duration_s=args.duration,
                    restart=not args.no_restart,
                    restart_only=ONE_OF_EACH if args.restart_one_of_each else None,
                    restart_together=args.restart_together,
                )
            finally:
                await cleanup(servers, SERVICES)

    started = time.monotonic()
    counts = asyncio.run(run())
    sys.stdout.write(f"{report(counts)}\n({time.monotonic() - started:.0f} s in all)\n")
    if args.json is not None:
        args.json.write_text(json.dumps(counts.as_dict(), indent=2) + "\n")
    raise SystemExit(0 if counts.clean else 1)


if __name__ == "__main__":
    main()
