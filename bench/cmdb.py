"""CMDB at scale: impact analysis over a large graph, and a large discovery run, through the real
config service on PostgreSQL.

1. A CMDB of `--cis` CIs (100,000) and `--relationships` relationships (300,000) shaped like a
   real estate: business services -> application instances -> containers / VMs -> hypervisors ->
   top-of-rack switches -> distribution -> core, storage volumes on arrays, databases, backups,
   supplier links; diamonds (dual-homed servers, replicated databases), cycles (instances calling
   each other, switch pairs, services depending on services) and hubs (core switches, a few
   shared databases, an SSO service every application calls). Loaded with COPY straight into the
   migrated tables (`config_item`, `ci_version`, `ci_relationship`, `relationship_history`), rows
   built with the service's own row functions so they are what the service writes.
2. Impact analysis, `GET /api/v1/cis/{id}/impact?depth=5`, sequentially, for `--roots` random
   roots spread evenly over the kinds of CI that take part in impact, each downstream and
   upstream; p50/p95/p99 and the mean number of CIs reached; the hubs apart; then the store's
   walk alone (`services.config.store.impact.walk`, in this process) on the same roots, and every API
   answer checked against the pure in-memory walk (`domain.impact.ImpactWalk`). Each root is also
   asked for the compact answer (`view=compact`, ids and distances, every page of `--page` CIs in
   turn), in the same run, alternately before and after the full one: its first page's
   p50/p95/p99, the pages summed, the store's `reached` alone, and its ids and distances checked
   against the same pure walk (the smoke run takes pages of 25, so paging is checked too).
3. A discovery run of `--discovery-items` observed CIs (`POST /api/v1/discovery/runs`): mostly
   existing hypervisors and VMs (some with changed attributes, a few controlled ones that differ),
   some new VMs, with their runs_on relationships; its wall time and counts; then the same run
   again, which must create and update nothing.

The config service runs as `bench.throughput` runs the incident service (uvicorn, one process,
uvloop, httptools, no access log, tracing on and not exported). Everything the run creates (the
database `bench_cmdb_<id>`, the exchange and queues) is removed at the end. Before each timed
part the bench waits until no other benchmark or test run is on the machine.

    uv run python -m bench.cmdb [--roots 300] [--json var/cmdb.json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import smoke
from bench.infra import (
    Bench,
    CpuWindow,
    ServerProcess,
    asyncpg_dsn,
    describe_cpu,
    machine_info,
    print_machine,
    run_main,
)
from bench.openloop import Answer, KeepAliveClient
from services.config.domain.impact import PAGE_DEFAULT, Direction, Edge, ImpactWalk, Reached
from services.config.domain.items import Cause, CIStatus, ConfigItem, Criticality, Identifiers
from services.config.domain.relationships import RelationshipType
from services.config.store import items as item_store
from services.config.store.impact import reached as store_reached
from services.config.store.impact import walk as store_walk
from shared.db import create_engine
from shared.migrations import upgrade

DEPTH = 5
TARGET_P95_MS = 50.0
TARGET_COMPACT_P95_MS = 20.0
TARGET_DISCOVERY_S = 10.0
IMPACT_KINDS = (
    "business_service",
    "application",
    "application_instance",
    "database",
    "container_workload",
    "virtual_machine",
    "server",
    "network_device",
    "storage",
)
QUIET_PATTERN = r"bench\.|pytest|wrk"
T = RelationshipType


# ---------------------------------------------------------------------------- the CMDB


@dataclass
class Cmdb:
    """The generated CMDB: items, relationships (id, source, type, target) and what the bench needs."""

    items: list[ConfigItem] = field(default_factory=list)
    relationships: list[tuple[uuid.UUID, uuid.UUID, str, uuid.UUID]] = field(default_factory=list)
    by_kind: dict[str, list[ConfigItem]] = field(default_factory=lambda: defaultdict(list))
    hubs: dict[str, uuid.UUID] = field(default_factory=dict)
    vms_on: dict[uuid.UUID, list[ConfigItem]] = field(default_factory=lambda: defaultdict(list))
    hypervisors: list[ConfigItem] = field(default_factory=list)
    suppliers: list[uuid.UUID] = field(default_factory=list)


class Generator:
    def __init__(self, seed: int, cis: int, relationships: int) -> None:
        self.rng = random.Random(seed)
        self.cis = cis
        self.target_relationships = relationships
        self.cmdb = Cmdb()
        self._edges: set[tuple[uuid.UUID, str, uuid.UUID]] = set()
        self._number = 0
        self._hostnames = 0
        self.start = datetime(2024, 1, 1, tzinfo=UTC)
        self.cause = Cause("import", "bench-loader", "bench-cmdb")

    # ---- items

    def item(
        self,
        kind: str,
        name: str,
        attributes: dict[str, Any],
        *,
        identifiers: Identifiers | None = None,
        controlled: bool = False,
        service_id: uuid.UUID | None = None,
        location_id: uuid.UUID | None = None,
        supplier_id: uuid.UUID | None = None,
        criticality: Criticality | None = None,
        product_version: str | None = None,
        owner: str | None = None,
    ) -> ConfigItem:
        self._number += 1
        created = self.start + timedelta(seconds=self.rng.randrange(0, 700 * 86400))
        roll = self.rng.random()
        status = CIStatus.LIVE if roll < 0.93 else CIStatus.MAINTENANCE if roll < 0.96 else CIStatus.IN_BUILD
        item = ConfigItem(
            id=uuid.UUID(int=self.rng.getrandbits(128), version=4),
            number=f"CI{self._number:07d}",
            name=name,
            ci_type=kind,
            status=status,
            criticality=criticality or Criticality(self.rng.choice((1, 2, 2, 3, 3, 3, 4))),
            owner=owner,
            attributes=attributes,
            identifiers=(identifiers or Identifiers()).normalised(),
            created_at=created,
            updated_at=created,
            service_id=service_id,
            supplier_id=supplier_id,
            location_id=location_id,
            product_version=product_version,
            controlled=controlled,
        )
        self.cmdb.items.append(item)
        self.cmdb.by_kind[kind].append(item)
        return item

    def host_identifiers(self, prefix: str, *, serial: bool = False, cloud: bool = False) -> Identifiers:
        self._hostnames += 1
        host = f"{prefix}-{self._hostnames:06d}"
        return Identifiers(
            serial=f"SN{self.rng.getrandbits(40):010X}" if serial else None,
            hostname=host,
            fqdn=f"{host}.dc.example.net",
            cloud_id=f"vm-{self.rng.getrandbits(64):016x}" if cloud else None,
        )

    def link(self, source: ConfigItem | uuid.UUID, kind: RelationshipType, target: ConfigItem | uuid.UUID) -> bool:
        s = source.id if isinstance(source, ConfigItem) else source
        t = target.id if isinstance(target, ConfigItem) else target
        key = (s, kind.value, t)
        if s == t or key in self._edges:
            return False
        self._edges.add(key)
        self.cmdb.relationships.append((uuid.UUID(int=self.rng.getrandbits(128), version=4), s, kind.value, t))
        return True

    def pick(self, items: Sequence[ConfigItem], hubs: Sequence[ConfigItem] = (), hub_share: float = 0.0) -> ConfigItem:
        if hubs and self.rng.random() < hub_share:
            return self.rng.choice(hubs)
        return self.rng.choice(items)

    # ---- the estate

    def build(self) -> Cmdb:
        rng, n = self.rng, self.cis
        scale = n / 100_000
        envs = ("production", "production", "production", "staging", "test", "development")
        c = self.cmdb
        c.suppliers = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(40)]

        sites = []
        for i in range(max(2, round(12 * scale))):
            kind = "datacentre" if i < 6 else "cloud_region" if i < 10 else "office"
            sites.append(
                self.item(
                    "location", f"site-{i:02d}", {"kind": kind, "country": rng.choice(["DE", "FR", "NL", "GB", "US"])}
                )
            )
        datacentres = sites[: max(1, min(6, len(sites)))]

        # Network: per data centre a core pair, firewalls, distribution pairs, load balancers, top-of-rack pairs.
        cores, dists, tors, lbs = [], [], [], []
        n_tor = max(4, round(618 * scale))
        for dc_index, dc in enumerate(datacentres):

            def net(role: str, label: str, *, dc: ConfigItem = dc, dc_index: int = dc_index) -> ConfigItem:
                return self.item(
                    "network_device",
                    f"{label}-{dc.name}-{len(c.by_kind['network_device']):04d}",
                    {
                        "role": role,
                        "ports": rng.choice([24, 48, 96]),
                        "management_ip": f"10.{dc_index}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                    },
                    identifiers=self.host_identifiers("net", serial=True),
                    controlled=True,
                    location_id=dc.id,
                    supplier_id=rng.choice(c.suppliers[:5]),
                    criticality=Criticality.CRITICAL if label in ("core", "fw") else Criticality.HIGH,
                )

            pair = [net("switch", "core"), net("switch", "core")]
            self.link(pair[0], T.CONNECTS_TO, pair[1])
            cores.extend(pair)
            for _ in range(2):
                fw = net("firewall", "fw")
                for core in pair:
                    self.link(fw, T.DEPENDS_ON, core)
            dc_dists = []
            for _ in range(max(1, round(4 * scale))):
                d = [net("switch", "dist"), net("switch", "dist")]
                self.link(d[0], T.CONNECTS_TO, d[1])
                for x in d:
                    for core in pair:
                        self.link(x, T.DEPENDS_ON, core)
                dc_dists.append(d)
                dists.extend(d)
            for _ in range(max(1, round(10 * scale))):
                lb = net("load_balancer", "lb")
                for x in rng.choice(dc_dists):
                    self.link(lb, T.DEPENDS_ON, x)
                lbs.append(lb)
            for _ in range(n_tor // (2 * len(datacentres))):
                t = [net("switch", "tor"), net("switch", "tor")]
                self.link(t[0], T.CONNECTS_TO, t[1])
                for x in t:
                    for d in rng.choice(dc_dists):
                        self.link(x, T.DEPENDS_ON, d)
                tors.append((dc, t))
        # The data centres' cores in a ring (a cycle across sites).
        for i in range(0, len(cores), 2):
            self.link(cores[i], T.CONNECTS_TO, cores[(i + 2) % len(cores)])

        # Storage: arrays per data centre and volumes (datastores) on them.
        arrays, volumes = [], []
        for dc in datacentres:
            for _ in range(max(1, round(5 * scale))):
                arrays.append(
                    self.item(
                        "storage",
                        f"array-{len(arrays):03d}",
                        {"kind": rng.choice(["san", "nas"]), "capacity_tb": rng.choice([200, 500, 1000])},
                        identifiers=Identifiers(serial=f"SA{rng.getrandbits(40):010X}"),
                        controlled=True,
                        location_id=dc.id,
                        supplier_id=rng.choice(c.suppliers[5:10]),
                        criticality=Criticality.CRITICAL,
                    )
                )
        for _ in range(max(2, round(470 * scale))):
            array = rng.choice(arrays)
            volume = self.item(
                "storage",
                f"datastore-{len(volumes):04d}",
                {"kind": "block", "capacity_tb": rng.choice([10, 20, 50])},
                location_id=array.location_id,
            )
            self.link(volume, T.DEPENDS_ON, array)
            volumes.append(volume)

        # Servers: hypervisors, bare-metal database servers and others, each on two top-of-rack switches.
        servers = []
        n_servers = max(10, round(12_000 * scale))
        for i in range(n_servers):
            dc, tor_pair = rng.choice(tors)
            role = "hypervisor" if i < n_servers // 2 else "db" if i < n_servers * 2 // 3 else "bare"
            server = self.item(
                "server",
                f"{role}-{i:05d}",
                {
                    "os": rng.choice(["ESXi 8.0", "ESXi 7.0u3"])
                    if role == "hypervisor"
                    else rng.choice(["RHEL 9.3", "Ubuntu 22.04", "RHEL 8.9"]),
                    "cpu_cores": rng.choice([32, 48, 64, 96]),
                    "memory_gb": rng.choice([256, 512, 768, 1024]),
                    "environment": rng.choice(envs),
                    "model": rng.choice(["PowerEdge R750", "ProLiant DL380 Gen10", "ThinkSystem SR650"]),
                    "rack": f"R{rng.randrange(1, 60):02d}",
                },
                identifiers=self.host_identifiers("srv", serial=True),
                controlled=rng.random() < 0.2,
                location_id=dc.id,
                supplier_id=rng.choice(c.suppliers[10:20]),
            )
            for tor in tor_pair:
                self.link(server, T.DEPENDS_ON, tor)
            if role == "hypervisor":
                self.link(server, T.DEPENDS_ON, rng.choice(arrays))
                c.hypervisors.append(server)
            servers.append(server)
        for server in servers + [x for _, t in tors for x in t] + arrays:
            self.link(server, T.SUPPORTED_BY, server.supplier_id or rng.choice(c.suppliers))

        # Business services, applications, their instances.
        services = [
            self.item(
                "business_service",
                f"service-{i:03d}",
                {
                    "description": "A service to customers",
                    "service_hours": rng.choice(["24x7", "Mon-Fri 08:00-18:00 CET"]),
                    "sla_tier": rng.choice(["gold", "silver", "bronze"]),
                    "customers": ["retail", "b2b"][: rng.randrange(1, 3)],
                },
                controlled=True,
                owner=f"owner{i % 37}@example.net",
                criticality=Criticality(rng.choice((1, 2, 2, 3))),
            )
            for i in range(max(3, round(250 * scale)))
        ]
        for s in services:
            if rng.random() < 0.6:
                self.link(s, T.DEPENDS_ON, self.pick(services))
            self.link(s, T.DEPENDS_ON, rng.choice(lbs))
        applications = [
            self.item(
                "application",
                f"app-{i:04d}",
                {
                    "vendor": rng.choice(["in-house", "SAP", "Oracle", "Atlassian"]),
                    "language": rng.choice(["java", "python", "go", "dotnet", "node"]),
                    "repository": f"https://git.example.net/app-{i:04d}",
                },
                service_id=rng.choice(services).id,
            )
            for i in range(max(3, round(1_200 * scale)))
        ]
        instances = []
        for i in range(max(10, round(12_000 * scale))):
            app = applications[i % len(applications)] if i < len(applications) else rng.choice(applications)
            env = rng.choice(envs)
            inst = self.item(
                "application_instance",
                f"{app.name}-{env[:4]}-{i:05d}",
                {"environment": env, "url": f"https://{app.name}-{i:05d}.apps.example.net/"},
                service_id=app.service_id,
                product_version=f"{rng.randrange(1, 9)}.{rng.randrange(0, 20)}.{rng.randrange(0, 50)}",
            )
            self.link(inst, T.MEMBER_OF, app)
            instances.append(inst)
        production = [i for i in instances if i.attributes["environment"] == "production"]
        by_service: dict[uuid.UUID | None, list[ConfigItem]] = defaultdict(list)
        for inst in production:
            by_service[inst.service_id].append(inst)
        for s in services:
            mine = by_service.get(s.id) or production
            for inst in rng.sample(mine, min(len(mine), rng.randrange(20, 80))):
                self.link(s, T.DEPENDS_ON, inst)
        # Hubs among the instances: SSO, messaging, API gateway.
        shared_instances = rng.sample(production, 5)
        c.hubs["sso application instance"] = shared_instances[0].id

        # Databases: on VMs or database servers, backed up; a few shared by many.
        databases = []
        db_servers = [s for s in servers if s.name.startswith("db-")]
        for i in range(max(5, round(3_000 * scale))):
            engine = rng.choice(["postgresql", "postgresql", "oracle", "sqlserver", "mysql", "mongodb"])
            databases.append(
                self.item(
                    "database",
                    f"db-{engine}-{i:04d}",
                    {
                        "engine": engine,
                        "engine_version": f"{rng.randrange(8, 17)}.{rng.randrange(0, 9)}",
                        "size_gb": rng.choice([5, 20, 120, 800, 4000]),
                    },
                    identifiers=Identifiers(cloud_id=f"db:{engine}:{rng.getrandbits(48):012x}"),
                    controlled=rng.random() < 0.3,
                    service_id=rng.choice(services).id,
                )
            )
        shared_dbs = databases[:3]
        c.hubs["shared database"] = shared_dbs[0].id
        for inst in instances:
            for _ in range(rng.choice((0, 1, 1, 1, 2, 2))):
                self.link(inst, T.DEPENDS_ON, self.pick(databases, shared_dbs, 0.12))

        # VMs on hypervisors with a datastore; some are Kubernetes nodes for the container workloads.
        n_containers = max(10, round(28_000 * scale))
        fixed = len(c.items) + n_containers
        n_vms = n - fixed
        vms = []
        for i in range(n_vms):
            hv = self.pick(c.hypervisors)
            vm = self.item(
                "virtual_machine",
                f"vm-{i:06d}",
                {
                    "os": rng.choice(["RHEL 9.3", "Ubuntu 22.04", "Windows Server 2022", "Flatcar 3815"]),
                    "cpu_cores": rng.choice([2, 4, 8, 16]),
                    "memory_gb": rng.choice([4, 8, 16, 32, 64]),
                    "hypervisor": "vSphere 8",
                    "environment": rng.choice(envs),
                    "power_state": "on",
                },
                identifiers=self.host_identifiers("vm", cloud=True),
                location_id=hv.location_id,
            )
            self.link(vm, T.RUNS_ON, hv)
            c.vms_on[hv.id].append(vm)
            self.link(vm, T.DEPENDS_ON, rng.choice(volumes))
            if rng.random() < 0.6:
                self.link(vm, T.BACKED_UP_BY, rng.choice(arrays))
            vms.append(vm)
        nodes = vms[: max(2, len(vms) // 8)]
        plain_vms = vms[len(nodes) :]
        containers = []
        for i in range(n_containers):
            namespace = f"team-{i % 150:03d}"
            container = self.item(
                "container_workload",
                f"{namespace}/deploy-{i:05d}",
                {
                    "image": f"registry.example.net/{namespace}/svc-{i % 900}:{rng.randrange(1, 40)}",
                    "replicas": rng.choice([1, 2, 3]),
                    "namespace": namespace,
                    "environment": rng.choice(envs),
                },
                identifiers=Identifiers(cloud_id=f"k8s://cluster-{i % 12:02d}/{namespace}/deploy-{i:05d}"),
            )
            for node in rng.sample(nodes, container.attributes["replicas"]):
                self.link(container, T.RUNS_ON, node)
            containers.append(container)
        for db in databases:
            host = rng.choice(db_servers) if rng.random() < 0.3 else rng.choice(plain_vms)
            self.link(db, T.RUNS_ON, host)
            if rng.random() < 0.3:  # a replica elsewhere: a diamond under the instances using it
                self.link(db, T.RUNS_ON, rng.choice(plain_vms))
            self.link(db, T.BACKED_UP_BY, rng.choice(arrays))
        for inst in instances:
            if rng.random() < 0.6:
                for container in rng.sample(containers, rng.choice((1, 2, 2, 3))):
                    self.link(inst, T.RUNS_ON, container)
            else:
                for vm in rng.sample(plain_vms, rng.choice((1, 1, 2))):
                    self.link(inst, T.RUNS_ON, vm)

        # Documents (runbooks, SLAs): CIs without relationships.
        while len(c.items) < n:
            i = len(c.by_kind["document"])
            self.item(
                "document",
                f"runbook-{i:05d}",
                {
                    "document_kind": rng.choice(["procedure", "plan", "sla"]),
                    "document_status": "approved",
                    "review_date": "2027-06-30",
                },
            )
        # Instances calling instances (mostly within a service; hubs called by many) up to the total.
        while len(c.relationships) < self.target_relationships:
            source = rng.choice(instances)
            peers = by_service.get(source.service_id) or production
            target = self.pick(peers if rng.random() < 0.7 else production, shared_instances, 0.08)
            self.link(source, T.DEPENDS_ON, target)
        del c.relationships[self.target_relationships :]
        c.hubs["core switch"] = cores[0].id
        c.hubs["storage array"] = arrays[0].id
        return c


# ---------------------------------------------------------------------------- loading


CONFIG_ITEM_COLUMNS = (
    *("id", "number", "name", "type", "status", "criticality", "owner", "attributes", "serial", "hostname"),
    *("fqdn", "cloud_id", "created_at", "updated_at", "version", "description", "service_id", "supplier_id"),
    *("location_id", "product_version", "controlled", "last_seen_at", "last_seen_by"),
)
VERSION_COLUMNS = ("ci_id", "version", "recorded_at", "actor", "cause_kind", "cause_reference", "changes", "snapshot")
JSON_COLUMNS = {"attributes", "changes", "snapshot"}


def _record(row: dict[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(json.dumps(row.get(c)) if c in JSON_COLUMNS else row.get(c) for c in columns)


async def load(url: str, cmdb: Cmdb, cause: Cause) -> dict[str, float]:
    """COPY the CMDB into the migrated tables, with the rows the service itself would write."""
    timings: dict[str, float] = {}
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        t0 = time.perf_counter()
        items = [_record(item_store._to_row(i), CONFIG_ITEM_COLUMNS) for i in cmdb.items]
        versions = [_record(item_store._version_row(i, cause, {}), VERSION_COLUMNS) for i in cmdb.items]
        created = {i.id: i.created_at for i in cmdb.items}
        relationships = [
            (rid, s, k, t, max(created[s], created.get(t, created[s]))) for rid, s, k, t in cmdb.relationships
        ]
        history = [
            (uuid.uuid4(), rid, "added", s, k, t, at, cause.actor, cause.kind, cause.reference)
            for rid, s, k, t, at in relationships
        ]
        timings["build_rows_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("config_item", records=items, columns=CONFIG_ITEM_COLUMNS)
            await conn.copy_records_to_table("ci_version", records=versions, columns=VERSION_COLUMNS)
            await conn.copy_records_to_table(
                "ci_relationship", records=relationships, columns=("id", "source_id", "type", "target_id", "created_at")
            )
            await conn.copy_records_to_table(
                "relationship_history",
                records=history,
                columns=(
                    *("id", "relationship_id", "action", "source_id", "type", "target_id", "recorded_at"),
                    *("actor", "cause_kind", "cause_reference"),
                ),
            )
            await conn.execute("SELECT setval('ci_number_seq', $1)", len(cmdb.items))
        timings["copy_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for table in ("config_item", "ci_version", "ci_relationship", "relationship_history"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        timings["vacuum_analyze_s"] = time.perf_counter() - t0
    finally:
        await conn.close()
    return timings


# ---------------------------------------------------------------------------- a quiet machine


def _lineage() -> set[int]:
    """This process and its ancestors (the `uv run`, a `timeout`, the shell that started us)."""
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
    return pids


def others_running() -> list[str]:
    out = subprocess.run(["pgrep", "-af", QUIET_PATTERN], capture_output=True, text=True, timeout=10, check=False)
    mine = _lineage()
    return [line for line in out.stdout.splitlines() if line and int(line.split()[0]) not in mine]


async def wait_until_quiet(what: str, max_wait_s: float) -> float:
    """Wait (bounded) until no other benchmark, test run or wrk runs; returns the seconds waited."""
    start = time.monotonic()
    announced = False
    while others := others_running():
        if time.monotonic() - start > max_wait_s:
            print(f"  ! still not quiet after {max_wait_s:.0f}s, measuring {what} anyway: {others}", flush=True)
            break
        if not announced:
            print(f"  waiting for other work to finish before {what}: {others}", flush=True)
            announced = True
        await asyncio.sleep(5)
    return time.monotonic() - start


class Quiet:
    """Keeps a timed part to moments when nothing else runs: checked before the part and again
    every `every` measurements (one pgrep, ~10 ms, outside the timings). It records the load
    averages, how long it waited and for what, and the CPU used while measuring (a CpuWindow
    per stretch between waits, so that what ran during a wait is not counted)."""

    def __init__(self, what: str, max_wait_s: float, cpu_names: dict[int, str], run_id: str, every: int = 20) -> None:
        self.what, self.max_wait_s, self.every = what, max_wait_s, every
        self.cpu_names, self.run_id = cpu_names, run_id
        self.calls = 0
        self.waited_s = 0.0
        self.waited_for: set[str] = set()
        self.loadavg = ""
        self.load1_max = 0.0
        self.window: CpuWindow | None = None
        self.cpu_parts: list[dict[str, float]] = []

    async def check(self) -> None:
        if self.calls % self.every == 0:
            if others := others_running():
                if self.window is not None:
                    self.cpu_parts.append(self.window.stop())
                    self.window = None
                self.waited_for.update(" ".join(o.split()[1:]) for o in others)
                self.waited_s += await wait_until_quiet(self.what, self.max_wait_s)
            load = os.getloadavg()
            self.loadavg = self.loadavg or " ".join(f"{x:.2f}" for x in load)
            self.load1_max = max(self.load1_max, load[0])
            if self.window is None:
                self.window = CpuWindow.start(self.cpu_names, self.run_id)
        self.calls += 1

    def stop(self) -> None:
        if self.window is not None:
            self.cpu_parts.append(self.window.stop())
            self.window = None

    def cpu(self) -> dict[str, float]:
        wall = sum(p["wall_s"] for p in self.cpu_parts) or 1.0
        keys = {k for p in self.cpu_parts for k in p if k != "wall_s"}
        merged = {k: round(sum(p.get(k, 0.0) * p["wall_s"] for p in self.cpu_parts) / wall, 2) for k in sorted(keys)}
        return {"wall_s": round(wall, 2), **merged}

    def report(self) -> dict[str, Any]:
        self.stop()
        return {
            "loadavg": self.loadavg,
            "load1_max": round(self.load1_max, 2),
            "waited_s": round(self.waited_s, 1),
            "waited_for": sorted(self.waited_for),
            "cpu": self.cpu(),
        }


# ---------------------------------------------------------------------------- impact


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(ms: Sequence[float], reached: Sequence[int]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2) if ms else float("nan"),
        "mean_reached": round(statistics.fmean(reached), 1) if reached else float("nan"),
        "max_reached": max(reached) if reached else 0,
    }


def weighted(samples: Sequence[dict[str, Any]], population: dict[str, int]) -> dict[str, float]:
    """Percentiles as if roots had been drawn in proportion to how many CIs of each kind there are
    (each sample weighs its kind's CIs / its kind's samples), rather than evenly over the kinds."""
    taken: dict[str, int] = defaultdict(int)
    for s in samples:
        taken[s["kind"]] += 1
    weight = {k: population[k] / n for k, n in taken.items()}
    ordered = sorted(samples, key=lambda s: s["ms"])
    total = sum(weight[s["kind"]] for s in ordered)

    def at(q: float) -> float:
        running = 0.0
        for s in ordered:
            running += weight[s["kind"]]
            if running >= q / 100 * total:
                return float(s["ms"])
        return float(ordered[-1]["ms"])

    return {
        "n": len(samples),
        "p50_ms": round(at(50), 2),
        "p95_ms": round(at(95), 2),
        "p99_ms": round(at(99), 2),
        "max_ms": round(ordered[-1]["ms"], 2),
        "mean_reached": round(sum(weight[s["kind"]] * s["reached"] for s in samples) / total, 1),
        "max_reached": max(s["reached"] for s in samples),
    }


class Reference:
    """The pure walk (`ImpactWalk`) over every relationship held in memory: what the API must answer."""

    def __init__(self, cmdb: Cmdb) -> None:
        self.touching: dict[uuid.UUID, list[Edge]] = defaultdict(list)
        for _, s, k, t in cmdb.relationships:
            if k == T.SUPPORTED_BY.value:
                continue
            edge = Edge(s, RelationshipType(k), t)
            self.touching[s].append(edge)
            self.touching[t].append(edge)

    def walk(self, root: uuid.UUID, direction: Direction, depth: int) -> list[Reached]:
        impact = ImpactWalk(root, direction, depth)
        while frontier := impact.frontier:
            impact.advance({e for node in frontier for e in self.touching.get(node, ())})
        return impact.result()


def _as_answer(reached: Iterable[Reached]) -> list[tuple[str, int, list[tuple[str, str, str]]]]:
    return [(str(r.ci_id), r.distance, [(str(s.from_id), str(s.to_id), s.type.value) for s in r.path]) for r in reached]


def _from_api(body: dict[str, Any]) -> list[tuple[str, int, list[tuple[str, str, str]]]]:
    return [
        (a["ci"]["id"], a["distance"], [(s["from_id"], s["to_id"], s["relationship"]) for s in a["path"]])
        for a in body["affected"]
    ]


def choose_roots(cmdb: Cmdb, count: int, rng: random.Random) -> list[tuple[str, uuid.UUID]]:
    """`count` roots spread evenly over the kinds that take part in impact, random within a kind."""
    per_kind = max(1, count // len(IMPACT_KINDS))
    roots = []
    for kind in IMPACT_KINDS:
        roots += [(kind, i.id) for i in rng.sample(cmdb.by_kind[kind], min(per_kind, len(cmdb.by_kind[kind])))]
    rng.shuffle(roots)
    return roots


async def measure_impact(
    server: ServerProcess,
    token: str,
    cmdb: Cmdb,
    roots: Sequence[tuple[str, uuid.UUID]],
    reference: Reference,
    args: argparse.Namespace,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    samples: list[dict[str, Any]] = []
    mismatches: list[str] = []
    # The open-loop bench's lean HTTP/1.1 client (asyncio streams on uvloop, the body read by its
    # Content-Length): httpx would add its own parsing of multi-MiB answers to every figure.
    client = KeepAliveClient("127.0.0.1", server.port, timeout_s=args.request_timeout)
    try:

        async def one(root: uuid.UUID, direction: Direction, compact: str = "") -> tuple[float, Answer]:
            path = f"/api/v1/cis/{root}/impact?depth={DEPTH}&direction={direction.value}{compact}"
            raw = client.request_bytes("GET", path, headers=headers)
            gc.disable()  # this process's collector runs between requests, not inside a timing
            try:
                t0 = time.perf_counter()
                r = await client.send(raw)
                elapsed = (time.perf_counter() - t0) * 1000
            finally:
                gc.enable()
            if r.status != 200:
                raise RuntimeError(f"impact of {root} {direction}: {r.status} {r.body[:300]!r}")
            return elapsed, r

        async def compact(root: uuid.UUID, direction: Direction) -> tuple[list[float], list[dict[str, Any]], int]:
            """Every page of the compact answer: each page's ms, the items, the bytes in all."""
            times, items, size, offset = [], [], 0, 0
            while True:
                ms, r = await one(root, direction, f"&view=compact&limit={args.page}&offset={offset}")
                page = json.loads(r.body)
                times.append(ms)
                items += page["items"]
                size += len(r.body)
                offset += args.page
                if offset >= page["total"]:
                    return times, items, size

        # Warm-up: other roots of every kind (statements prepared, caches filled), not measured.
        warm = random.Random(args.seed + 1)
        for kind in IMPACT_KINDS:
            for _ in range(args.warmup):
                root, direction = warm.choice(cmdb.by_kind[kind]).id, warm.choice(list(Direction))
                await one(root, direction)
                await compact(root, direction)
        quiet = Quiet("the impact requests", args.quiet_wait, {server.pid: "config"}, f"cmdb_{args.run_id}")
        pairs = [(kind, root, d) for kind, root in roots for d in Direction]
        for n, (kind, root, direction) in enumerate(pairs):
            await quiet.check()
            # Both forms of the same root, one after the other, which first in turn.
            if n % 2:
                pages, items, compact_bytes = await compact(root, direction)
                ms, r = await one(root, direction)
            else:
                ms, r = await one(root, direction)
                pages, items, compact_bytes = await compact(root, direction)
            body = json.loads(r.body)
            # Correctness, off the clock: both answers against the pure walk.
            expected = reference.walk(root, direction, DEPTH)
            if _from_api(body) != _as_answer(expected):
                mismatches.append(f"{kind} {root} {direction.value}")
            if [(i["id"], i["distance"]) for i in items] != [(str(e.ci_id), e.distance) for e in expected]:
                mismatches.append(f"compact: {kind} {root} {direction.value}")
            samples.append(
                {
                    "kind": kind,
                    "root": str(root),
                    "direction": direction.value,
                    "ms": ms,
                    "reached": len(body["affected"]),
                    "bytes": len(r.body),
                    "compact_ms": pages[0],
                    "compact_pages_ms": sum(pages),
                    "compact_pages": len(pages),
                    "compact_bytes": compact_bytes,
                }
            )
        quiet.stop()
        hubs = []
        for name, hub in cmdb.hubs.items():
            ms_list = []
            for _ in range(args.hub_repeats):
                ms, r = await one(hub, Direction.DOWNSTREAM)
                ms_list.append(ms)
            body = json.loads(r.body)
            hubs.append(
                {
                    "hub": name,
                    "direction": "downstream",
                    "median_ms": round(statistics.median(ms_list), 1),
                    "reached": len(body["affected"]),
                    "bytes": len(r.body),
                }
            )
    finally:
        await client.close()
    out: dict[str, Any] = {
        "quiet": quiet.report(),
        "cpu": quiet.cpu(),
        "all": summary([s["ms"] for s in samples], [s["reached"] for s in samples]),
        "by_direction": {
            d.value: summary(
                [s["ms"] for s in samples if s["direction"] == d.value],
                [s["reached"] for s in samples if s["direction"] == d.value],
            )
            for d in Direction
        },
        "by_kind": {
            kind: summary(
                [s["ms"] for s in samples if s["kind"] == kind], [s["reached"] for s in samples if s["kind"] == kind]
            )
            for kind in IMPACT_KINDS
        },
        "weighted": weighted(samples, {k: len(cmdb.by_kind[k]) for k in IMPACT_KINDS}),
        "mean_response_kb": round(statistics.fmean(s["bytes"] for s in samples) / 1024, 1),
        "compact": summary([s["compact_ms"] for s in samples], [s["reached"] for s in samples]),
        "compact_whole": summary([s["compact_pages_ms"] for s in samples], [s["reached"] for s in samples]),
        "compact_weighted": weighted(
            [{**s, "ms": s["compact_ms"]} for s in samples], {k: len(cmdb.by_kind[k]) for k in IMPACT_KINDS}
        ),
        "compact_mean_kb": round(statistics.fmean(s["compact_bytes"] for s in samples) / 1024, 1),
        "compact_max_pages": max(s["compact_pages"] for s in samples),
        "hubs": hubs,
        "mismatches": mismatches,
        "samples": samples,
    }
    return out


async def measure_walk(
    url: str, cmdb: Cmdb, roots: Sequence[tuple[str, uuid.UUID]], args: argparse.Namespace, store_walk: Any = store_walk
) -> dict[str, Any]:
    """The store's walk alone, in this process (no HTTP, no item fetch, no serialisation, no tracing):
    `store.walk` (with the way to each CI), or `store.reached` (the compact answer's: ids only)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            warm = random.Random(args.seed + 2)
            for kind in IMPACT_KINDS:
                for _ in range(args.warmup):
                    await store_walk(conn, warm.choice(cmdb.by_kind[kind]).id, warm.choice(list(Direction)), DEPTH)
            quiet = Quiet("the store-level walks", args.quiet_wait, {}, f"cmdb_{args.run_id}")
            ms, reached = [], []
            for _, root, direction in [(k, r, d) for k, r in roots for d in Direction]:
                await quiet.check()
                gc.disable()
                try:
                    t0 = time.perf_counter()
                    result = await store_walk(conn, root, direction, DEPTH)
                    ms.append((time.perf_counter() - t0) * 1000)
                finally:
                    gc.enable()
                reached.append(len(result))
                await conn.rollback()  # as a request would: its own transaction
            quiet.stop()  # before the engine goes: its PostgreSQL backend counts as PostgreSQL
    finally:
        await engine.dispose()
    return {"quiet": quiet.report(), **summary(ms, reached)}


# ---------------------------------------------------------------------------- discovery


@dataclass
class DiscoveryPlan:
    body: dict[str, Any]
    expected: dict[str, int]


def plan_discovery(cmdb: Cmdb, size: int, rng: random.Random) -> DiscoveryPlan:
    """Hypervisors and all their VMs as a vCenter sees them: ~86% existing VMs and hosts (15% of those
    with changed attributes, a few controlled hosts that differ), ~14% new VMs; runs_on for every VM."""
    n_new = round(size * 0.14)
    n_controlled_diff = max(1, size // 500)
    hosts: list[ConfigItem] = []
    vms: list[ConfigItem] = []
    for hv in rng.sample(cmdb.hypervisors, len(cmdb.hypervisors)):
        if len(hosts) + len(vms) + len(cmdb.vms_on[hv.id]) + 1 > size - n_new:
            continue
        hosts.append(hv)
        vms += cmdb.vms_on[hv.id]
    n_new = size - len(hosts) - len(vms)
    items: list[dict[str, Any]] = []
    relationships: list[dict[str, str]] = []
    changed = controlled_changed = 0

    def observed(item: ConfigItem, attributes: dict[str, Any], key: str) -> dict[str, Any]:
        ids = item.identifiers
        # Some tools report host names in capitals: identification ignores the case of DNS names.
        hostname = ids.hostname.upper() if ids.hostname and rng.random() < 0.1 else ids.hostname
        return {
            "key": key,
            "type": item.ci_type,
            "name": item.name,
            "identifiers": {"serial": ids.serial, "hostname": hostname, "fqdn": ids.fqdn, "cloud_id": ids.cloud_id},
            "attributes": attributes,
        }

    controlled_hosts = [h for h in hosts if h.controlled][:n_controlled_diff]
    for host in hosts:
        attributes = {k: host.attributes[k] for k in ("os", "cpu_cores", "memory_gb")}
        if host in controlled_hosts:
            attributes["memory_gb"] = host.attributes["memory_gb"] * 2  # someone added memory without a change
            controlled_changed += 1
        elif not host.controlled and rng.random() < 0.15:
            attributes["os"] = "ESXi 8.0u2"
            changed += attributes["os"] != host.attributes["os"]
        items.append(observed(host, attributes, f"host/{host.number}"))
    for vm in vms:
        attributes = {k: vm.attributes[k] for k in ("os", "cpu_cores", "memory_gb", "hypervisor", "power_state")}
        if rng.random() < 0.15:
            attributes["memory_gb"] = vm.attributes["memory_gb"] * 2
            attributes["power_state"] = rng.choice(["on", "off"])
            changed += 1
        items.append(observed(vm, attributes, f"vm/{vm.number}"))
    host_of = {vm.id: host for host in hosts for vm in cmdb.vms_on[host.id]}
    for vm in vms:
        relationships.append(
            {"source": f"vm/{vm.number}", "type": "runs_on", "target": f"host/{host_of[vm.id].number}"}
        )
    for i in range(n_new):
        name = f"vm-new-{i:05d}"
        host = rng.choice(hosts)
        items.append(
            {
                "key": f"new/{i}",
                "type": "virtual_machine",
                "name": name,
                "identifiers": {
                    "hostname": name,
                    "fqdn": f"{name}.dc.example.net",
                    "cloud_id": f"vm-new-{rng.getrandbits(64):016x}",
                },
                "attributes": {
                    "os": "RHEL 9.3",
                    "cpu_cores": 4,
                    "memory_gb": 16,
                    "hypervisor": "vSphere 8",
                    "power_state": "on",
                },
            }
        )
        relationships.append({"source": f"new/{i}", "type": "runs_on", "target": f"host/{host.number}"})
    rng.shuffle(items)
    expected = {
        "items": len(items),
        "hosts": len(hosts),
        "existing_vms": len(vms),
        "created": n_new,
        "updated": changed,
        "unauthorised": controlled_changed,
        "relationships": len(relationships),
        "relationships_added": n_new,
    }
    return DiscoveryPlan({"source": "vcenter-bench", "items": items, "relationships": relationships}, expected)


async def outbox_pending(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
    finally:
        await conn.close()


async def drain_outbox(url: str, within_s: float = 300.0) -> float:
    start = time.monotonic()
    while (pending := await outbox_pending(url)) > 0:
        if time.monotonic() - start > within_s:
            raise RuntimeError(f"the relay left {pending} events unpublished after {within_s}s")
        await asyncio.sleep(0.5)
    return time.monotonic() - start


async def measure_discovery(
    server: ServerProcess, token: str, url: str, plan: DiscoveryPlan, args: argparse.Namespace
) -> dict[str, Any]:
    content = json.dumps(plan.body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    runs = []
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=args.discovery_timeout) as client:
        for label in ("first", "repeated"):
            quiet = Quiet(f"the {label} discovery run", args.quiet_wait, {server.pid: "config"}, f"cmdb_{args.run_id}")
            await quiet.check()
            t0 = time.perf_counter()
            r = await client.post("/api/v1/discovery/runs", content=content)
            wall = time.perf_counter() - t0
            quiet.stop()
            cpu = quiet.cpu()
            if r.status_code != 201:
                raise RuntimeError(f"discovery run: {r.status_code} {r.text[:500]}")
            body = r.json()
            drained = await drain_outbox(url)
            runs.append(
                {
                    "run": label,
                    "wall_s": round(wall, 3),
                    "server_s": round(
                        (
                            datetime.fromisoformat(body["finished_at"]) - datetime.fromisoformat(body["started_at"])
                        ).total_seconds(),
                        3,
                    ),
                    "counts": body["counts"],
                    "reported_items": len(body["items"]),
                    "request_mb": round(len(content) / 1_048_576, 2),
                    "relay_drain_s": round(drained, 1),
                    "quiet": quiet.report(),
                    "cpu": cpu,
                }
            )
    return {"expected": plan.expected, "runs": runs}


def check_discovery(result: dict[str, Any]) -> list[str]:
    problems = []
    exp = result["expected"]
    first, again = (r["counts"] for r in result["runs"])
    for key in ("created", "updated", "unauthorised", "relationships_added"):
        if first.get(key) != exp[key]:
            problems.append(f"first discovery run: {key} = {first.get(key)}, expected {exp[key]}")
    if first.get("error") or first.get("relationship_errors"):
        problems.append(f"first discovery run reported errors: {first}")
    if again.get("created") or again.get("updated") or again.get("relationships_added"):
        problems.append(f"repeated discovery run changed something: {again}")
    if again.get("unauthorised") != exp["unauthorised"]:
        problems.append(
            f"repeated run: {again.get('unauthorised')} unauthorised, expected {exp['unauthorised']} (known)"
        )
    return problems


async def check_rows(url: str, cmdb: Cmdb, result: dict[str, Any]) -> list[str]:
    exp = result["expected"]
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        items = await conn.fetchval("SELECT count(*) FROM config_item")
        versions = await conn.fetchval("SELECT count(*) FROM ci_version")
        relationships = await conn.fetchval("SELECT count(*) FROM ci_relationship")
    finally:
        await conn.close()
    problems = []
    if items != len(cmdb.items) + exp["created"]:
        problems.append(f"{items} CIs after discovery, expected {len(cmdb.items) + exp['created']}")
    if versions != len(cmdb.items) + exp["created"] + exp["updated"]:
        problems.append(
            f"{versions} versions after discovery, expected {len(cmdb.items) + exp['created'] + exp['updated']}"
        )
    if relationships != len(cmdb.relationships) + exp["relationships_added"]:
        problems.append(f"{relationships} relationships after discovery")
    return problems


# ---------------------------------------------------------------------------- report


def print_tables(results: dict[str, Any], args: argparse.Namespace) -> None:
    imp, walk, disc = results["impact"], results["walk"], results["discovery"]
    a = imp["all"]
    print()
    print(
        f"| impact, depth {DEPTH}, sequential | requests | p50 ms | p95 ms | p99 ms | max ms"
        " | mean CIs reached | max reached |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = [("**all, roots evenly over the kinds (HTTP)**", a)]
    rows += [(f"{d} (HTTP)", imp["by_direction"][d]) for d in ("downstream", "upstream")]
    rows += [(f"{k} (HTTP)", imp["by_kind"][k]) for k in IMPACT_KINDS]
    rows.append(("all, weighted by how many CIs of each kind (HTTP)", imp["weighted"]))
    rows.append(("`store.walk` alone, same roots (in process)", walk))
    rows.append((f"**compact (`view=compact`), first page of {args.page} (HTTP)**", imp["compact"]))
    rows.append(("compact, weighted by how many CIs of each kind (HTTP)", imp["compact_weighted"]))
    rows.append((f"compact, every page of {args.page} in turn (HTTP, summed)", imp["compact_whole"]))
    rows.append(("`store.reached` alone, same roots (in process)", results["walk_compact"]))
    for label, s in rows:
        print(
            f"| {label} | {s['n']} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | {s['p99_ms']:.1f} | {s['max_ms']:.1f} |"
            f" {s['mean_reached']:.1f} | {s['max_reached']} |"
        )
    verdict = smoke.verdict(a["p95_ms"] < TARGET_P95_MS, args)
    q = imp["quiet"]
    print(f"TARGET impact, roots evenly over the kinds, p95 < {TARGET_P95_MS:.0f} ms: {a['p95_ms']:.1f} ms, {verdict}")
    c = imp["compact"]
    verdict = smoke.verdict(c["p95_ms"] < TARGET_COMPACT_P95_MS, args)
    print(
        f"TARGET impact, compact answer (a page of {args.page}), p95 < {TARGET_COMPACT_P95_MS:.0f} ms:"
        f" {c['p95_ms']:.1f} ms, {verdict}; full / compact p95 in the same run: {a['p95_ms'] / c['p95_ms']:.2f}"
    )
    print(
        f"mean answer {imp['mean_response_kb']} KiB full, {imp['compact_mean_kb']} KiB compact (all pages, at most"
        f" {imp['compact_max_pages']}); load average {q['loadavg']} (1-min max {q['load1_max']});"
        f" cpu while measuring: {describe_cpu(imp['cpu'])}"
    )
    for part in (imp, walk, results["walk_compact"]):
        if part["quiet"]["waited_s"]:
            print(f"  (waited {part['quiet']['waited_s']} s for: {'; '.join(part['quiet']['waited_for'])})")
    print()
    print("| hub, downstream, depth 5 | median ms | CIs reached | answer MiB |")
    print("|---|---:|---:|---:|")
    for h in imp["hubs"]:
        print(f"| {h['hub']} | {h['median_ms']:.0f} | {h['reached']} | {h['bytes'] / 1_048_576:.1f} |")
    print()
    exp = disc["expected"]
    print(
        f"discovery: {exp['items']} items ({exp['hosts']} known hosts, {exp['existing_vms']} known VMs,"
        f" {exp['created']} new VMs) and {exp['relationships']} runs_on relationships"
        f" ({disc['runs'][0]['request_mb']} MiB of JSON)"
    )
    print(
        "| discovery run | wall s | in service s | created | updated | unchanged | unauthorised | errors"
        " | relationships added | load average |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in disc["runs"]:
        c = r["counts"]
        print(
            f"| {r['run']} | {r['wall_s']:.2f} | {r['server_s']:.2f} | {c['created']} | {c['updated']}"
            f" | {c['unchanged']} | {c['unauthorised']} | {c['error']} | {c['relationships_added']}"
            f" | {r['quiet']['loadavg']} |"
        )
    for r in disc["runs"]:
        print(f"  {r['run']}: cpu {describe_cpu(r['cpu'])}; relay drained its events in {r['relay_drain_s']} s")
    worst = max(r["wall_s"] for r in disc["runs"])
    verdict = smoke.verdict(worst < TARGET_DISCOVERY_S, args)
    print(
        f"TARGET a discovery run of {exp['items']} items < {TARGET_DISCOVERY_S:.0f} s: slowest {worst:.2f} s, {verdict}"
    )


# ---------------------------------------------------------------------------- main


async def _main(args: argparse.Namespace) -> int:
    bench = Bench()
    args.run_id = bench.run_id
    results: dict[str, Any] = {"command": " ".join(["uv run python -m bench.cmdb", *sys.argv[1:]])}
    problems: list[str] = []
    completed = False
    server: ServerProcess | None = None
    try:
        results["machine"] = await machine_info(bench)
        print_machine(results["machine"])
        t0 = time.perf_counter()
        cmdb = Generator(args.seed, args.cis, args.relationships).build()
        kinds = {k: len(v) for k, v in sorted(cmdb.by_kind.items())}
        kind_counts = defaultdict(int)
        for _, _, k, _ in cmdb.relationships:
            kind_counts[k] += 1
        print(
            f"generated {len(cmdb.items)} CIs, {len(cmdb.relationships)} relationships"
            f" in {time.perf_counter() - t0:.1f}s"
        )
        reference = Reference(cmdb)
        # The CMDB and the reference walk's index stay in memory: keep the collector from walking
        # millions of objects again and again during the in-process timings.
        gc.collect()
        gc.freeze()
        print(f"  CIs: {kinds}")
        print(f"  relationships: {dict(kind_counts)}")
        results["cmdb"] = {"cis": kinds, "relationships": dict(kind_counts)}

        db = f"bench_cmdb_{bench.run_id}"
        await bench._admin(f'CREATE DATABASE "{db}"')
        bench.databases.append(db)
        url = bench.database_url(db)
        await asyncio.to_thread(upgrade, "config", url)
        timings = await load(url, cmdb, Cause("import", "bench-loader", "bench-cmdb"))
        print(f"loaded into {db}: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
        results["load"] = timings

        server = ServerProcess(
            "config", "services.config.app:create_app", bench.service_env("config", url), bench.workdir
        )
        await server.wait_ready("/readyz")
        print(f"config service: {' '.join(server.command[1:])}  (OTEL_TRACES_EXPORTER=none, tracing on)")
        reader = bench.token("agent")
        manager = bench.token("config_manager")

        roots = choose_roots(cmdb, args.roots, random.Random(args.seed))
        print(
            f"impact: {len(roots)} roots ({len(roots) // len(IMPACT_KINDS)} per kind) x 2 directions,"
            f" depth {DEPTH}, sequential",
            flush=True,
        )
        results["impact"] = await measure_impact(server, reader, cmdb, roots, reference, args)
        problems += [f"impact answer differs from the pure walk: {m}" for m in results["impact"]["mismatches"]]
        results["walk"] = await measure_walk(url, cmdb, roots, args)
        results["walk_compact"] = await measure_walk(url, cmdb, roots, args, store_reached)

        plan = plan_discovery(cmdb, args.discovery_items, random.Random(args.seed + 3))
        print(f"discovery: {plan.expected}", flush=True)
        results["discovery"] = await measure_discovery(server, manager, url, plan, args)
        problems += check_discovery(results["discovery"])
        problems += await check_rows(url, cmdb, results["discovery"])
        completed = True
    finally:
        if server is not None:
            await server.stop()
        await bench.cleanup(keep_logs=not completed or bool(problems))

    print_tables(results, args)
    for problem in problems:
        print("PROBLEM:", problem)
    results["problems"] = problems
    if args.json:
        for s in results["impact"]["samples"]:
            s["ms"] = round(s["ms"], 2)
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=2, default=str) + "\n")
        print(f"results written to {args.json}")
    return smoke.finish(problems, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=300_000)
    parser.add_argument("--roots", type=int, default=300, help="impact roots, spread evenly over the kinds")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured impact requests per kind first")
    parser.add_argument("--hub-repeats", type=int, default=3)
    parser.add_argument("--page", type=int, default=PAGE_DEFAULT, help="CIs per page of the compact answer")
    parser.add_argument("--discovery-items", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--request-timeout", type=float, default=120.0, help="seconds, per impact request")
    parser.add_argument("--discovery-timeout", type=float, default=300.0, help="seconds, per discovery run")
    parser.add_argument("--quiet-wait", type=float, default=900.0, help="at most this long waiting for other work")
    parser.add_argument("--json", metavar="PATH", help="also write every figure (each request) as JSON")
    args = smoke.parse_args(
        parser,
        cis=3000,
        relationships=9000,
        roots=9,
        warmup=1,
        hub_repeats=1,
        discovery_items=300,
        quiet_wait=0.0,
        page=25,  # several pages per root: the paging is checked too
    )
    sys.exit(run_main(lambda: _main(args)))


if __name__ == "__main__":
    main()
