"""What a replica load run counts (tests/replica_load.py), and how: from the databases once the
suite has settled, never from what the processes say of themselves (they are restarted)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.conftest import SERVICES
from tests.infra import eventually
from tests.replica_capacity import CapacityCounts, CapacitySource, count_capacity, describe
from tests.replica_hey import HEY_CALLER, HeyCounts
from tests.replicas import Deployment, connect_db

CREATED = {
    "incident": "incident.created",
    "change": "change.created",
    "ci": "ci.created",
    "contract": "contract.created",
}
"""The records the load creates, by kind, and the event each creation must be logged by reporting as."""


@dataclass
class Counts:
    requests: int = 0
    failures: int = 0
    resent_after_refusal: int = 0
    restarts: int = 0
    restart_exit_statuses: list[int] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    events_sent: int = 0
    events_applied: int = 0
    events_lost: int = 0
    events_applied_twice: int = 0
    idempotent_pairs: int = 0
    idempotency_broken: int = 0
    if_match_races: int = 0
    lost_updates: int = 0
    discovery_runs: int = 0
    hosts_discovered: int = 0
    hosts_created_twice: int = 0
    sla_breaches: int = 0
    sla_due: int = 0
    contracts_expiring: int = 0
    contracts_due: int = 0
    report_runs: int = 0
    reports_due: int = 0
    job_events_twice: int = 0
    capacity: CapacityCounts = field(default_factory=CapacityCounts)
    hey: HeyCounts = field(default_factory=HeyCounts)
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds each phase of the run took (databases, start, load, settle, count)."""
    failure_samples: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        self.failures += 1
        if len(self.failure_samples) < 20:
            self.failure_samples.append(what[:300])

    @property
    def clean(self) -> bool:
        return not (
            self.failures
            or self.events_lost
            or self.events_applied_twice
            or self.idempotency_broken
            or self.lost_updates
            or self.hosts_created_twice
            or self.job_events_twice
            or self.sla_breaches != self.sla_due
            or self.contracts_expiring != self.contracts_due
            or self.report_runs != self.reports_due
            or any(s != 0 for s in self.restart_exit_statuses)
            or not self.capacity.clean
            or not self.hey.clean
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def settled(deployed: Deployment) -> None:
    """Every outbox published and every queue empty, twice in a row a second apart."""

    async def quiet() -> None:
        for service in SERVICES:
            assert await deployed.outbox_pending(service) == 0, service
            assert (await deployed.queue_counts(service))[0] == 0, service

    async def quiet_twice() -> None:
        await quiet()
        await asyncio.sleep(1)
        await quiet()

    await eventually(quiet_twice, within_s=120, interval=0.5)
    await asyncio.sleep(2)  # watcher passes over the last state
    await eventually(quiet_twice, within_s=120, interval=0.5)


async def count(
    deployed: Deployment, counts: Counts, created: dict[str, list[str]], reports: int, capacity: CapacitySource
) -> None:
    sent: set[str] = set()
    fired: Counter[tuple[str, str, str]] = Counter()
    for service in SERVICES:
        conn = await connect_db(deployed.database_urls[service])
        try:
            for row in await conn.fetch("SELECT event_id, event_type, subject, payload FROM outbox"):
                sent.add(row["event_id"])
                if row["event_type"] in ("itsm.sla.breached.v1", "itsm.sla.warning.v1", "itsm.contract.expiring.v1"):
                    target = '"target":"resolution"' in row["payload"].replace(" ", "")
                    fired[(row["event_type"], row["subject"] or "", "resolution" if target else "")] += 1
            if service == "reporting":
                log = await conn.fetch("SELECT event_id, type, subject FROM event_log")
                counts.report_runs = int(await conn.fetchval("SELECT count(*) FROM report_run"))
        finally:
            await conn.close()
    logged = Counter(r["event_id"] for r in log)
    counts.events_sent = len(sent)
    counts.events_applied = len(sent & set(logged))
    counts.events_lost = len(sent - set(logged))
    counts.events_applied_twice = sum(1 for n in logged.values() if n > 1)
    per_subject = Counter((r["type"], r["subject"]) for r in log)
    for kind, prefix in CREATED.items():
        counts.created[kind] = len(created[kind])
        ids = created[kind]
        logged_once = [i for i in ids if per_subject[(f"itsm.{prefix}.v1", i)] == 1]
        counts.events_lost += len(ids) - len(logged_once)
        counts.events_applied_twice += len(ids) - len(set(ids))  # one key, two records
    counts.job_events_twice = sum(1 for n in fired.values() if n > 1)
    counts.sla_due = len(created["incident"])
    counts.sla_breaches = sum(1 for i in created["incident"] if fired[("itsm.sla.breached.v1", i, "resolution")] == 1)
    counts.contracts_due = len(created["contract"])
    counts.contracts_expiring = sum(1 for c in created["contract"] if fired[("itsm.contract.expiring.v1", c, "")] == 1)
    counts.reports_due = reports
    config = await connect_db(deployed.database_urls["config"])
    incident = await connect_db(deployed.database_urls["incident"])
    try:
        counts.capacity = await count_capacity(config, incident, capacity)
        counts.hey.in_database = int(
            await incident.fetchval("SELECT count(*) FROM incident WHERE caller = $1", HEY_CALLER)
        )
    finally:
        await config.close()
        await incident.close()


def report(counts: Counts) -> str:
    """The counts as `make replicas` prints them (and docs/operations.md quotes them)."""
    c = counts
    lines = [
        f"requests {c.requests}, failures {c.failures}, resent after a refused connection {c.resent_after_refusal}",
        f"processes restarted {c.restarts} (exit statuses {sorted(set(c.restart_exit_statuses)) or '-'})",
        "created " + ", ".join(f"{kind} {n}" for kind, n in c.created.items()),
        f"events sent {c.events_sent}, applied {c.events_applied}, lost {c.events_lost},"
        f" applied twice {c.events_applied_twice}",
        f"idempotency: {c.idempotent_pairs} keys sent to two replicas at once, {c.idempotency_broken} broken",
        f"If-Match: {c.if_match_races} races of two edits on two replicas, {c.lost_updates} lost updates",
        f"discovery: {c.discovery_runs} runs sent to two replicas at once, {c.hosts_discovered} hosts,"
        f" {c.hosts_created_twice} created twice",
        f"SLA watcher: {c.sla_breaches} of {c.sla_due} resolution breaches raised once;"
        f" expiry watcher: {c.contracts_expiring} of {c.contracts_due} contracts;"
        f" report schedule: {c.report_runs} runs of {c.reports_due} due; job events raised twice {c.job_events_twice}",
    ]
    lines.append(describe(c.capacity))
    if c.hey.runs:
        lines.append(c.hey.describe())
    lines += [f"  capacity: {sample}" for sample in c.capacity.samples]
    if c.phases:
        lines.append("seconds: " + ", ".join(f"{name} {s:g}" for name, s in c.phases.items()))
    lines += [f"  failure: {sample}" for sample in c.failure_samples]
    return "\n".join(lines)
