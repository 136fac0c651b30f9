"""`itsm demo`: a realistic data set loaded through the services' HTTP APIs, so the dashboard lives.

Everything goes through the public APIs, as an integration would: suppliers and their active
contracts (CIs covered, targets per priority), the service catalogue with its CIs and
relationships in config, a few weeks of incidents through their lifecycles, problems on the hot
spots (one a known error with its workaround), changes through theirs with their production
deployments, and per service a standard change template and a release taken to production.
History is recorded as an import: each call carries `X-ITSM-Occurred-At` (admin only, see
shared/clock.py), so the services record when things happened and reporting gets weeks of trend;
steps planned after "now" are simply not done yet, which leaves a realistic backlog of open work.

It adapts to what the running services offer: it reads each service's `/openapi.json`, calls only
the routes that exist and sends only the optional fields a request body accepts. A part whose
routes are missing is skipped with a note. The incident, change and supplier services check CIs
against a read model filled from config's events, so a write refused on a CI field is retried for
`Api.ci_wait_s`. To extend it, add a step to `STEPS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from shared.auth import mint_token
from shared.clock import OCCURRED_AT_HEADER

MARKER = "demo data set"  # in the description of every service the demo creates


class Missing(Exception):
    """The running service has no such route (an older or newer build): skip, with a note."""


class Refused(Exception):
    """The service answered with an error."""

    def __init__(self, method: str, path: str, status: int, detail: str, body: Any = None) -> None:
        super().__init__(f"{method} {path}: {status} {detail}")
        self.status = status
        self.body = body


@dataclass
class Api:
    """The services' HTTP APIs as the demo sees them: their OpenAPI documents and tokens per person."""

    urls: dict[str, str]
    secret: str
    audience: str | None = None
    issuer: str | None = None
    timeout_s: float = 30.0
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    _routes: dict[str, list[tuple[str, re.Pattern[str], str]]] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)
    _client: httpx.AsyncClient | None = None
    mounts: dict[str, httpx.AsyncBaseTransport] | None = None
    """Transports by URL prefix instead of the network (tests run the services in process)."""
    calls: int = 0
    ci_wait_s: float = 20.0
    """How long a write refused for an unknown CI is retried: the incident, change and supplier
    services learn config's CIs from its events (their local CI read model), a moment later."""

    async def __aenter__(self) -> Api:
        self._client = httpx.AsyncClient(timeout=self.timeout_s, mounts=self.mounts)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._client is not None
        await self._client.aclose()

    @property
    def client(self) -> httpx.AsyncClient:
        assert self._client is not None
        return self._client

    async def discover(self, service: str, *, within_s: float = 0.0) -> bool:
        """Read the service's OpenAPI document; False when it does not answer within `within_s`
        (a suite just started with `itsm up` takes a few seconds)."""
        deadline = asyncio.get_running_loop().time() + within_s
        while True:
            try:
                r = await self.client.get(f"{self.urls[service]}/openapi.json")
                r.raise_for_status()
                break
            except httpx.HTTPError:
                if asyncio.get_running_loop().time() >= deadline:
                    return False
                await asyncio.sleep(0.5)
        spec = r.json()
        self.specs[service] = spec
        self._routes[service] = [
            (method.upper(), re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
            for path, operations in spec.get("paths", {}).items()
            for method in operations
        ]
        return True

    def has(self, service: str, method: str, path: str) -> bool:
        return self._template(service, method, path) is not None

    def _template(self, service: str, method: str, path: str) -> str | None:
        for m, pattern, template in self._routes.get(service, []):
            if m == method and pattern.match(path):
                return template
        return None

    def accepted_fields(self, service: str, method: str, path: str) -> set[str]:
        """The properties the route's JSON body accepts (bodies refuse unknown fields)."""
        template = self._template(service, method, path)
        if template is None:
            return set()
        spec = self.specs[service]
        operation = spec["paths"][template][method.lower()]
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        seen = 0
        while "$ref" in schema and seen < 5:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            seen += 1
        return set(schema.get("properties", {}))

    def token(self, person: str, roles: tuple[str, ...] = ("admin",)) -> str:
        key = f"{person}:{','.join(roles)}"
        if key not in self._tokens:
            self._tokens[key] = mint_token(
                self.secret, person, roles, ttl=timedelta(hours=2), audience=self.audience, issuer=self.issuer
            )
        return self._tokens[key]

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        person: str,
        at: datetime | None = None,
        body: dict[str, Any] | None = None,
        optional: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """`body` is sent as is; of `optional`, only the fields the route accepts."""
        if not self.has(service, method, path):
            raise Missing(f"{service} has no {method} {path.split('/api/v1')[-1]}")
        payload = dict(body or {})
        if optional:
            accepted = self.accepted_fields(service, method, path)
            payload.update({k: v for k, v in optional.items() if k in accepted and v is not None})
        headers = {**(headers or {}), "Authorization": f"Bearer {self.token(person)}"}
        if at is not None:
            headers[OCCURRED_AT_HEADER] = at.isoformat()
        has_body = method in ("POST", "PUT", "PATCH")
        deadline = asyncio.get_running_loop().time() + (self.ci_wait_s if has_body and service != "config" else 0)
        collisions = 0
        while True:
            r = await self.client.request(
                method,
                f"{self.urls[service]}{path}",
                json=payload if has_body else None,
                params=params,
                headers=headers,
            )
            self.calls += 1
            if r.status_code < 400:
                return r.json() if r.content else None
            try:
                problem = r.json()
            except ValueError:
                problem = {"detail": r.text}
            if r.status_code == 422 and unknown_ci(problem) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.25)  # config's ci.created.v1 is still on its way to this service
                continue
            if r.status_code == 412 and has_body and collisions < 5:
                # No If-Match was sent: the record changed between the service's read and write (its
                # own event handlers write on incidents and problems too); nothing was written, so
                # the same request again is safe.
                collisions += 1
                await asyncio.sleep(0.1 * collisions)
                continue
            raise Refused(method, path, r.status_code, str(problem.get("detail", ""))[:300], problem)


CI_FIELDS = frozenset({"ci_id", "ci_ids", "service_id", "service_ids", "affected_ci_ids"})


def unknown_ci(problem: Any) -> bool:
    """A business rule refusing a CI or service field (not a malformed request): a CI the service
    has not heard of yet, which waiting may cure."""
    if not isinstance(problem, dict) or str(problem.get("type", "")).rstrip("/").endswith("validation"):
        return False
    errors = problem.get("errors") or []
    return any(CI_FIELDS & set(str(e.get("field", "")).split(".")) for e in errors if isinstance(e, dict))


# ---- the data set ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServicePlan:
    name: str
    tier: str
    group: str
    supplier: str | None
    components: tuple[tuple[str, str, dict[str, Any]], ...]
    """(name, CI type, attributes) of what the service runs on."""
    incident_rate: float
    """Incidents per working day on average."""


SUPPLIERS: tuple[dict[str, Any], ...] = (
    {"name": "Northwind Cloud", "category": "cloud", "risk_rating": "medium", "contact_email": "noc@northwind.test"},
    {"name": "Contoso Networks", "category": "network", "risk_rating": "high", "contact_email": "help@contoso.test"},
    {"name": "Fabrikam Software", "category": "software", "risk_rating": "low", "contact_email": "help@fabrikam.test"},
    {"name": "Litware Facilities", "category": "facilities", "risk_rating": "low", "contact_email": "it@litware.test"},
)

SERVICES: tuple[ServicePlan, ...] = (
    ServicePlan(
        "Email",
        "gold",
        "messaging",
        "Fabrikam Software",
        (
            ("mail-gateway", "application_instance", {"environment": "production"}),
            ("exchange-db", "database", {"engine": "sqlserver"}),
            ("mail-vm-01", "virtual_machine", {"os": "Windows Server 2022", "environment": "production"}),
        ),
        2.2,
    ),
    ServicePlan(
        "Customer portal",
        "gold",
        "web-platform",
        "Northwind Cloud",
        (
            ("portal-web", "container_workload", {"replicas": 6, "environment": "production"}),
            ("portal-api", "container_workload", {"replicas": 4, "environment": "production"}),
            ("portal-db", "database", {"engine": "postgresql", "engine_version": "16"}),
        ),
        2.6,
    ),
    ServicePlan(
        "Payroll",
        "silver",
        "business-apps",
        "Fabrikam Software",
        (
            ("payroll-app", "application_instance", {"environment": "production"}),
            ("payroll-db", "database", {"engine": "oracle"}),
        ),
        0.8,
    ),
    ServicePlan(
        "Order management",
        "gold",
        "business-apps",
        "Northwind Cloud",
        (
            ("orders-api", "container_workload", {"replicas": 3, "environment": "production"}),
            ("orders-db", "database", {"engine": "postgresql", "engine_version": "15"}),
            ("orders-queue", "application_instance", {"environment": "production"}),
        ),
        1.7,
    ),
    ServicePlan(
        "Remote access (VPN)",
        "silver",
        "network-ops",
        "Contoso Networks",
        (
            ("vpn-concentrator", "network_device", {"role": "firewall"}),
            ("core-switch-a", "network_device", {"role": "switch"}),
        ),
        1.3,
    ),
)

FLAKY_CIS = ("portal-api", "vpn-concentrator", "orders-db")  # the hot spots problem management finds

AGENTS = {
    "messaging": ("ana.silva", "tom.berg"),
    "web-platform": ("li.wei", "sam.okafor"),
    "business-apps": ("maria.rossi", "jon.hale"),
    "network-ops": ("raj.patel", "eva.novak"),
    "service-desk": ("kim.lee", "dan.ortiz"),
}
CHANGE_MANAGER = "grace.hopper"
CAB = ("cab.alice", "cab.bob")

INCIDENT_TITLES = {
    "application_instance": ["{ci} returns errors", "{ci} is slow", "Users cannot log in to {ci}"],
    "container_workload": ["{ci} pods restarting", "{ci} latency above 2 s", "{ci} 5xx errors spike"],
    "database": ["{ci} connection pool exhausted", "{ci} replication lag", "{ci} disk nearly full"],
    "virtual_machine": ["{ci} high CPU", "{ci} unreachable"],
    "network_device": ["{ci} dropping sessions", "{ci} interface flapping", "Cannot connect through {ci}"],
}

# Impact x urgency -> how long the work takes (hours), roughly, per resulting priority.
RESOLVE_HOURS = {1: (1, 5), 2: (3, 20), 3: (6, 60), 4: (12, 110), 5: (24, 200)}
PRIORITY = {(1, 1): 1, (1, 2): 2, (2, 1): 2, (1, 3): 3, (2, 2): 3, (3, 1): 3, (2, 3): 4, (3, 2): 4, (3, 3): 5}


@dataclass
class Loaded:
    """What the demo created, for the later steps."""

    suppliers: dict[str, str] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)
    cis: dict[str, dict[str, Any]] = field(default_factory=dict)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    known_errors: list[str] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)
    deployments: list[str] = field(default_factory=list)
    sla_policies: list[str] = field(default_factory=list)
    agreed_reports: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Refusals met along the way by a part that reports them later (deployments)."""


@dataclass
class Demo:
    api: Api
    now: datetime
    days: int
    rng: random.Random
    say: Callable[[str], None]
    seed: int = 0
    loaded: Loaded = field(default_factory=Loaded)
    concurrency: int = 4

    @property
    def start(self) -> datetime:
        return self.now - timedelta(days=self.days)

    def rng_for(self, part: str) -> random.Random:
        """A generator of its own per part, so adding a step changes no other step's data."""
        return random.Random(f"{self.seed}:{part}")

    async def each(self, items: list[Any], work: Callable[[Any], Awaitable[None]]) -> list[str]:
        """Run `work` over items, a few at a time; the errors, as notes."""
        gate = asyncio.Semaphore(self.concurrency)
        notes: list[str] = []

        async def one(item: Any) -> None:
            async with gate:
                try:
                    await work(item)
                except (Refused, Missing) as exc:
                    notes.append(str(exc))

        await asyncio.gather(*(one(i) for i in items))
        return notes


# ---- steps ------------------------------------------------------------------------------------


async def load_suppliers(demo: Demo) -> str:
    api = demo.api
    known = 0
    for plan in SUPPLIERS:
        try:
            created = await api.call(
                "supplier",
                "POST",
                "/api/v1/suppliers",
                person="pat.supplier",
                at=demo.start - timedelta(days=2),
                body={"name": plan["name"], "category": plan["category"]},
                optional={
                    "risk_rating": plan["risk_rating"],
                    "contact_email": plan["contact_email"],
                    "supplier_manager": "pat.supplier",
                },
            )
        except Refused as exc:
            if exc.status != 409 or not (exc.body or {}).get("supplier_id"):
                raise
            demo.loaded.suppliers[plan["name"]] = exc.body["supplier_id"]  # a supplier is unique by name
            known += 1
            continue
        demo.loaded.suppliers[plan["name"]] = created["id"]
    return f"{len(SUPPLIERS)} suppliers" + (f" ({known} there already)" if known else "")


# Per priority: (response, resolution) minutes the supplier commits to.
CONTRACT_TARGETS = {1: (30, 300), 2: (60, 960), 3: (240, 2880), 4: (480, 5760), 5: (960, 10080)}


async def load_contracts(demo: Demo) -> str:
    """One underpinning contract per supplier that runs demo CIs, covering them and their services,
    with response and resolution targets per priority, activated (so in force)."""
    api = demo.api
    if not api.has("supplier", "POST", "/api/v1/contracts"):
        raise Missing("supplier has no POST /contracts")
    notes: list[str] = []
    active = 0
    starts = demo.start - timedelta(days=200)
    for name, supplier_id in demo.loaded.suppliers.items():
        covered = [ci for ci in demo.loaded.cis.values() if ci.get("supplier") == name]
        if not covered:
            continue  # a supplier of nothing in the catalogue: no contract to show against it
        try:
            contract = await api.call(
                "supplier",
                "POST",
                "/api/v1/contracts",
                person="pat.supplier",
                at=demo.start - timedelta(days=1),
                body={
                    "supplier_id": supplier_id,
                    "title": f"{name} support agreement",
                    "starts_on": starts.isoformat(),
                    "ends_on": (starts + timedelta(days=730)).isoformat(),
                    "owner": "pat.supplier",
                },
                optional={
                    "scope": f"Support of {', '.join(sorted({ci['service'] for ci in covered}))} ({MARKER}).",
                    "ci_ids": [ci["id"] for ci in covered],
                    "service_ids": sorted({ci["service_id"] for ci in covered}),
                    "notice_period_days": 90,
                    "value": "120000.00",
                    "currency": "EUR",
                    "charging_basis": "subscription",
                    "targets": [
                        {"priority": p, "response_minutes": response, "resolution_minutes": resolution}
                        for p, (response, resolution) in CONTRACT_TARGETS.items()
                    ],
                    "availability_pct": 99.9,
                    "reporting_obligations": [{"report": "Service performance", "frequency": "monthly"}],
                },
            )
        except Refused as exc:
            notes.append(str(exc))
            continue
        demo.loaded.contracts.append(contract["id"])
        try:
            await api.call(
                "supplier",
                "POST",
                f"/api/v1/contracts/{contract['id']}/activate",
                person="pat.supplier",
                # An hour after it was drafted: two events of one contract at the same instant leave
                # reporting to break the tie, and it should not have to.
                at=demo.start - timedelta(days=1) + timedelta(hours=1),
            )
            active += 1
        except (Refused, Missing) as exc:
            notes.append(str(exc))
    summary = f"{len(demo.loaded.contracts)} contracts ({active} active)"
    return summary + (f"; {len(notes)} refused, e.g. {notes[0]}" if notes else "")


async def load_catalogue(demo: Demo) -> str:
    api = demo.api
    relationships = 0
    at = demo.start - timedelta(days=1)
    for plan in SERVICES:
        service = await api.call(
            "config",
            "POST",
            "/api/v1/cis",
            person="carl.config",
            at=at,
            body={"name": plan.name, "type": "business_service", "status": "live"},
            optional={
                "criticality": 1 if plan.tier == "gold" else 2,
                "owner": f"{plan.group}-lead",
                "description": f"{plan.name} ({MARKER})",
                "attributes": {"sla_tier": plan.tier, "service_hours": "Mon-Fri 07:00-19:00 CET"},
            },
        )
        demo.loaded.services[plan.name] = service["id"]
        for name, ci_type, attributes in plan.components:
            supplier_id = demo.loaded.suppliers.get(plan.supplier or "")
            ci = await api.call(
                "config",
                "POST",
                "/api/v1/cis",
                person="carl.config",
                at=at,
                body={"name": name, "type": ci_type, "status": "live"},
                optional={
                    "criticality": 1 if name in FLAKY_CIS or plan.tier == "gold" else 3,
                    "service_id": service["id"],
                    "supplier_id": supplier_id,
                    "attributes": attributes,
                    "owner": plan.group,
                },
            )
            demo.loaded.cis[name] = {
                "id": ci["id"],
                "type": ci_type,
                "service": plan.name,
                "service_id": service["id"],
                "group": plan.group,
                "supplier": plan.supplier,
                "supplier_id": supplier_id,
            }
            await api.call(
                "config",
                "POST",
                "/api/v1/relationships",
                person="carl.config",
                at=at,
                body={"source_id": service["id"], "type": "depends_on", "target_id": ci["id"]},
            )
            relationships += 1
            if supplier_id is not None:
                try:
                    await api.call(
                        "config",
                        "POST",
                        "/api/v1/relationships",
                        person="carl.config",
                        at=at,
                        body={"source_id": ci["id"], "type": "supported_by", "target_id": supplier_id},
                    )
                    relationships += 1
                except Refused:
                    pass  # config has not heard of the supplier yet (events still on their way)
    # Databases and workloads run on the service's other parts: a few runs_on / depends_on links.
    for plan in SERVICES:
        names = [n for n, _, _ in plan.components]
        for source, target in itertools.pairwise(names):
            await api.call(
                "config",
                "POST",
                "/api/v1/relationships",
                person="carl.config",
                at=at,
                body={
                    "source_id": demo.loaded.cis[source]["id"],
                    "type": "depends_on",
                    "target_id": demo.loaded.cis[target]["id"],
                },
            )
            relationships += 1
    return f"{len(SERVICES)} services, {len(demo.loaded.cis)} CIs, {relationships} relationships"


def _working_day_factor(day: date) -> float:
    return 0.35 if day.weekday() >= 5 else 1.0


def plan_incidents(demo: Demo) -> list[dict[str, Any]]:
    """Each incident with its planned lifecycle (times); the same for the same seed and period."""
    rng = demo.rng_for("incidents")
    plans: list[dict[str, Any]] = []
    ci_names = list(demo.loaded.cis)
    for offset in range(demo.days):
        day = (demo.start + timedelta(days=offset)).date()
        for plan in SERVICES:
            expected = plan.incident_rate * _working_day_factor(day)
            count = sum(1 for _ in range(6) if rng.random() < expected / 6)
            mine = [n for n in ci_names if demo.loaded.cis[n]["service"] == plan.name]
            for _ in range(count):
                weights = [4.0 if n in FLAKY_CIS else 1.0 for n in mine]
                if not mine:
                    continue
                ci = rng.choices(mine, weights)[0]
                impact, urgency = rng.choices(
                    [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3), (3, 2), (3, 3)], [1, 2, 2, 6, 5, 4, 3]
                )[0]
                priority = PRIORITY[(impact, urgency)]
                opened = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                    hours=rng.uniform(7, 19), minutes=rng.uniform(0, 59)
                )
                low, high = RESOLVE_HOURS[priority]
                assigned = opened + timedelta(minutes=rng.uniform(2, 25 if priority <= 2 else 90))
                started = assigned + timedelta(minutes=rng.uniform(3, 40))
                resolved = started + timedelta(hours=rng.uniform(low, high) * rng.choice([0.6, 1.0, 1.0, 1.6]))
                group = demo.loaded.cis[ci]["group"] if rng.random() < 0.85 else "service-desk"
                ci_type = demo.loaded.cis[ci]["type"]
                title = rng.choice(INCIDENT_TITLES.get(ci_type, ["{ci} problem"])).format(ci=ci)
                plans.append(
                    {
                        "ci": ci,
                        "title": title,
                        "impact": impact,
                        "urgency": urgency,
                        "priority": priority,
                        "group": group,
                        "assignee": rng.choice(AGENTS[group]),
                        "opened": opened,
                        "assigned": assigned,
                        "started": started,
                        "hold": rng.random() < 0.15,
                        "resolved": resolved,
                        "closed": resolved + timedelta(hours=rng.uniform(6, 72)),
                        "caller": rng.choice(["alex", "blake", "casey", "drew", "erin", "frankie"]) + "@example.com",
                    }
                )
    return plans


# The service level targets every demo incident is measured against: calendar, response and
# resolution (business time on that calendar). Priorities 1-2 run around the clock; 3-5 on the
# service desk's hours, so an incident opened at 19:00 starts its clock the next morning.
SLA_CALENDARS = {
    "Around the clock": {
        "time_zone": "UTC",
        "hours": ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
        "day": ("00:00", "24:00"),
    },
    "Service desk hours": {
        "time_zone": "Europe/London",
        "hours": ("mon", "tue", "wed", "thu", "fri"),
        "day": ("08:00", "18:00"),
    },
}
SLA_TARGETS = {  # priority: (calendar, response minutes, resolution business hours)
    1: ("Around the clock", 30, 4),
    2: ("Around the clock", 30, 12),
    3: ("Service desk hours", 120, 30),
    4: ("Service desk hours", 240, 50),
    5: ("Service desk hours", 480, 100),
}


async def load_sla_policies(demo: Demo) -> str:
    """A default incident SLA policy per priority (any service), on two calendars."""
    api = demo.api
    if not api.has("incident", "POST", "/api/v1/sla/policies"):
        raise Missing("incident has no POST /sla/policies")
    calendars: dict[str, str] = {}
    for name, plan in SLA_CALENDARS.items():
        start, end = plan["day"]
        try:
            created = await api.call(
                "incident",
                "POST",
                "/api/v1/sla/calendars",
                person="sam.slm",
                body={
                    "name": name,
                    "time_zone": plan["time_zone"],
                    "working_hours": {day: {"start": start, "end": end} for day in plan["hours"]},
                },
            )
            calendars[name] = created["id"]
        except Refused as exc:  # named uniquely: there from an earlier run
            if exc.status != 409 or not (exc.body or {}).get("existing_id"):
                raise
            calendars[name] = exc.body["existing_id"]
    known = 0
    for priority, (calendar, response_min, resolution_h) in SLA_TARGETS.items():
        try:
            created = await api.call(
                "incident",
                "POST",
                "/api/v1/sla/policies",
                person="sam.slm",
                body={
                    "name": f"Incidents P{priority}",
                    "ticket_kind": "incident",
                    "priority": priority,
                    "response_target_s": response_min * 60,
                    "resolution_target_s": resolution_h * 3600,
                    "calendar_id": calendars[calendar],
                },
            )
            demo.loaded.sla_policies.append(created["id"])
        except Refused as exc:  # one default policy per priority: there from an earlier run
            if exc.status != 409 or not (exc.body or {}).get("existing_id"):
                raise
            demo.loaded.sla_policies.append(exc.body["existing_id"])
            known += 1
    return f"{len(SLA_TARGETS)} incident SLA policies on {len(calendars)} calendars" + (
        f" ({known} there already)" if known else ""
    )


async def load_incidents(demo: Demo) -> str:
    api = demo.api
    if not api.has("incident", "POST", "/api/v1/incidents"):
        raise Missing("incident has no POST /incidents")
    plans = plan_incidents(demo)
    done = {"resolved": 0, "open": 0}

    async def one(p: dict[str, Any]) -> None:
        ci = demo.loaded.cis[p["ci"]]
        desk = rng_person(demo, "service-desk")
        incident = await api.call(
            "incident",
            "POST",
            "/api/v1/incidents",
            person=desk,
            at=p["opened"],
            body={"title": p["title"], "caller": p["caller"], "impact": p["impact"], "urgency": p["urgency"]},
            optional={
                "ci_id": ci["id"],
                "service_id": ci["service_id"],
                "category": "software" if ci["type"] != "network_device" else "network",
                "description": f"Reported by {p['caller']} ({MARKER}).",
                "channel": "phone" if p["priority"] <= 2 else "portal",
            },
        )
        url = f"/api/v1/incidents/{incident['id']}"
        steps: list[tuple[datetime, str, dict[str, Any] | None, str]] = [
            (p["assigned"], "assign", {"assignment_group": p["group"], "assignee": p["assignee"]}, desk),
            (p["started"], "start", None, p["assignee"]),
        ]
        if p["hold"]:
            hold_at = p["started"] + (p["resolved"] - p["started"]) / 3
            steps.append((hold_at, "hold", {"reason": "awaiting_caller"}, p["assignee"]))
            steps.append((hold_at + (p["resolved"] - p["started"]) / 4, "resume", None, p["assignee"]))
        resolution = {"resolution_code": "fixed", "resolution_notes": "Restored."}
        steps.append((p["resolved"], "resolve", resolution, p["assignee"]))
        steps.append((p["closed"], "close", None, desk))
        if p["priority"] == 1 and api.has("incident", "POST", f"{url}/major"):
            steps.insert(1, (p["opened"] + timedelta(minutes=1), "major", {"manager": "mia.major"}, desk))
            # A major incident closes only once its post-incident review is recorded.
            review = {
                "summary": f"{p['title']}: service degraded until restored.",
                "root_cause": "A faulty configuration pushed to the CI.",
                "lessons": "Validate configuration before it is pushed.",
                "actions": ["Add a configuration check to the pipeline"],
            }
            steps.append((p["resolved"] + timedelta(hours=1), "review", review, "mia.major"))
        for at, action, body, person in sorted(steps, key=lambda s: s[0]):
            if at > demo.now:
                break
            method = "PUT" if action == "review" else "POST"
            await api.call("incident", method, f"{url}/{action}", person=person, at=at, body=body or {})
        demo.loaded.incidents.append({**p, "id": incident["id"], "number": incident["number"]})
        done["resolved" if p["resolved"] <= demo.now else "open"] += 1

    notes = await demo.each(plans, one)
    summary = f"{len(demo.loaded.incidents)} incidents over {demo.days} days ({done['open']} still open)"
    return summary + (f"; {len(notes)} refused, e.g. {notes[0]}" if notes else "")


def rng_person(demo: Demo, group: str) -> str:
    return demo.rng.choice(AGENTS[group])


async def load_problems(demo: Demo) -> str:
    """A problem on each hot spot CI with its incidents; the hottest one investigated and published
    as a known error with its workaround (which the incident service then offers on new incidents).
    The incident service may have opened a problem there already from recurring incidents (its
    analysis runs on incident events): that one is taken up rather than a second opened."""
    api = demo.api
    if not api.has("incident", "POST", "/api/v1/problems"):
        raise Missing("incident has no POST /problems")
    notes: list[str] = []
    found = 0
    hot_spots = sorted(
        FLAKY_CIS, key=lambda n: -sum(1 for i in demo.loaded.incidents if i["ci"] == n)
    )  # the one with most incidents first: it becomes the known error
    for name in hot_spots:
        ci = demo.loaded.cis.get(name)
        if ci is None:
            continue
        mine = sorted((i for i in demo.loaded.incidents if i["ci"] == name), key=lambda i: i["opened"])
        at = min(demo.now, mine[min(2, len(mine) - 1)]["opened"] + timedelta(hours=2) if mine else demo.now)
        try:
            problem = await _open_problem(demo, name, ci, mine, at)
        except (Refused, Missing) as exc:
            notes.append(str(exc))
            continue
        if problem.get("origin") == "recurrence":
            found += 1
        demo.loaded.problems.append(problem["id"])
        base = f"/api/v1/problems/{problem['id']}"
        try:
            if "investigate" in problem.get("allowed_actions", ["investigate"]):
                problem = await api.call(
                    "incident",
                    "POST",
                    f"{base}/investigate",
                    person="paula.problem",
                    at=at,
                    body={},
                    optional={"owner": "paula.problem"},
                )
            if len(demo.loaded.problems) == 1 and "publish_known_error" in problem.get(
                "allowed_actions", ["publish_known_error"]
            ):
                published = await api.call(
                    "incident",
                    "POST",
                    f"{base}/known-error",
                    person="paula.problem",
                    at=min(demo.now, at + timedelta(hours=20)),
                    body={
                        "root_cause": f"Resource limits on {name} too low for the peak load",
                        "workaround": f"Restart {name} and scale it out by one instance until the fix is released",
                    },
                )
                if published.get("known_error_id"):
                    demo.loaded.known_errors.append(published["known_error_id"])
        except (Refused, Missing) as exc:
            notes.append(str(exc))
    summary = f"{len(demo.loaded.problems)} problems"
    if found:
        summary += f" ({found} opened by the incident service's own analysis)"
    summary += f", {len(demo.loaded.known_errors)} known error(s) with a workaround"
    return summary + (f"; {len(notes)} refused, e.g. {notes[0]}" if notes else "")


async def _open_problem(
    demo: Demo, name: str, ci: dict[str, Any], incidents: list[dict[str, Any]], at: datetime
) -> dict[str, Any]:
    api = demo.api
    with contextlib.suppress(Refused, Missing):
        existing = await api.call(
            "incident", "GET", "/api/v1/problems", person="paula.problem", params={"ci_id": ci["id"], "limit": 50}
        )
        open_ones = [p for p in (existing or {}).get("items", []) if p.get("status") in ("new", "under_investigation")]
        if open_ones:
            return dict(open_ones[0])
    created: dict[str, Any] = await api.call(
        "incident",
        "POST",
        "/api/v1/problems",
        person="paula.problem",
        at=at,
        body={"title": f"Recurring incidents on {name}"},
        optional={
            "description": f"{len(incidents)} incidents on {name} in a few weeks ({MARKER}).",
            "ci_id": ci["id"],
            "service_id": ci["service_id"],
            "category": "software" if ci["type"] != "network_device" else "network",
            "impact": 2,
            "urgency": 2,
            "owner": "paula.problem",
            "incident_ids": [i["id"] for i in incidents[:20]],
        },
    )
    return created


def plan_changes(demo: Demo) -> list[dict[str, Any]]:
    rng = demo.rng_for("changes")
    plans: list[dict[str, Any]] = []
    ci_names = list(demo.loaded.cis)
    for offset in range(demo.days):
        day = (demo.start + timedelta(days=offset)).date()
        if day.weekday() >= 5:
            continue
        for _ in range(rng.choice([0, 1, 1, 2])):
            kind = rng.choices(["standard", "normal", "emergency"], [6, 3, 1])[0]
            ci = rng.choice(ci_names)
            created = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=rng.uniform(8, 17))
            lead = timedelta(hours=rng.uniform(1, 6)) if kind == "emergency" else timedelta(days=rng.uniform(1, 6))
            start = created + lead
            plans.append(
                {
                    "type": kind,
                    "ci": ci,
                    "title": rng.choice(["Patch", "Upgrade", "Reconfigure", "Scale out", "Rotate certificates on"])
                    + f" {ci}",
                    "created": created,
                    "start": start,
                    "end": start + timedelta(hours=rng.uniform(1, 3)),
                    "risk": "low" if kind == "standard" else rng.choice(["low", "medium", "medium", "high"]),
                    "fails": rng.random() < (0.25 if kind == "emergency" else 0.08),
                    "requester": rng.choice(AGENTS[demo.loaded.cis[ci]["group"]]),
                }
            )
    return plans


async def load_changes(demo: Demo) -> str:
    api = demo.api
    if not api.has("change", "POST", "/api/v1/changes"):
        raise Missing("change has no POST /changes")
    plans = plan_changes(demo)
    outcome = {"implemented": 0, "failed": 0, "open": 0}

    async def one(p: dict[str, Any]) -> None:
        ci = demo.loaded.cis[p["ci"]]
        change = await api.call(
            "change",
            "POST",
            "/api/v1/changes",
            person=p["requester"],
            at=p["created"],
            body={"title": p["title"], "type": p["type"]},
            optional={
                "description": f"{p['title']} ({MARKER}).",
                "justification": "Service restoration" if p["type"] == "emergency" else "Keep the platform current",
                "category": "software",
                "planned_start": p["start"].isoformat(),
                "planned_end": p["end"].isoformat(),
                "affected_ci_ids": [ci["id"]],
                "service_ids": [ci["service_id"]],
            },
        )
        url = f"/api/v1/changes/{change['id']}"
        t: datetime = p["created"]
        steps: list[tuple[datetime, str, dict[str, Any] | None, str]] = []

        def later(minutes: float) -> datetime:
            nonlocal t
            t = t + timedelta(minutes=minutes)
            return t

        steps.append((later(10), "submit", None, p["requester"]))
        if p["type"] != "standard":
            steps.append((later(60), "assess", {"risk": p["risk"]}, CHANGE_MANAGER))
            if p["type"] == "normal" and p["risk"] == "high":
                steps.append((later(120), "approve", {"comment": "CAB: go"}, CAB[0]))
                steps.append((later(5), "approve", {"comment": "CAB: go"}, CAB[1]))
            else:
                steps.append((later(30), "approve", {"comment": "ok"}, CHANGE_MANAGER))
        steps.append((min(later(20), p["start"] - timedelta(minutes=1)), "schedule", None, CHANGE_MANAGER))
        t = max(t, p["start"])
        steps.append((p["start"], "start", None, p["requester"]))
        if p["fails"]:
            backed_out = {"notes": "Smoke tests failed; backed out to the previous version"}
            steps.append((p["end"], "fail", backed_out, p["requester"]))
        else:
            steps.append((p["end"], "complete", None, p["requester"]))
        steps.append((p["end"] + timedelta(days=1), "review", {"outcome": "Reviewed; no follow-up"}, CHANGE_MANAGER))
        steps.append((p["end"] + timedelta(days=1, minutes=10), "close", None, CHANGE_MANAGER))
        # The review of an emergency or failed change records its lessons (where the service asks for them).
        lessons = (
            {"lessons": "Smoke tests caught it; add the check to the staging run", "objectives_met": False}
            if p["fails"]
            else {"lessons": "Emergency path worked; fold the fix into the next standard release"}
            if p["type"] == "emergency"
            else None
        )
        last = p["created"]
        last_action = "create"
        for at, action, body, person in steps:
            at = max(at, last + timedelta(seconds=1))
            if at > demo.now:
                break
            optional = lessons if action == "review" else None
            await api.call(
                "change", "POST", f"{url}/{action}", person=person, at=at, body=body or {}, optional=optional
            )
            last = at
            last_action = action
            if action == "complete":
                outcome["implemented"] += 1
                await record_deployment(demo, change, ci, at, succeeded=True)
            elif action == "fail":
                outcome["failed"] += 1
                await record_deployment(demo, change, ci, at, succeeded=False)
        if last < p["end"]:
            outcome["open"] += 1
        demo.loaded.changes.append({**p, "id": change["id"], "number": change["number"], "last_action": last_action})

    notes = await demo.each(plans, one)
    summary = (
        f"{len(demo.loaded.changes)} changes ({outcome['implemented']} implemented, {outcome['failed']} failed, "
        f"{outcome['open']} in progress)"
    )
    return summary + (f"; {len(notes)} refused, e.g. {notes[0]}" if notes else "")


def pipeline_name(service: str) -> str:
    """What the delivery pipelines call a service: "Customer portal" -> "customer-portal"."""
    return re.sub(r"[^a-z0-9]+", "-", service.lower()).strip("-")


async def record_deployment(
    demo: Demo, change: dict[str, Any], ci: dict[str, Any], at: datetime, *, succeeded: bool
) -> None:
    """The production deployment the change made, as its pipeline reports it (DORA's raw data)."""
    api = demo.api
    if not api.has("change", "POST", "/api/v1/deployments"):
        return
    try:
        recorded = await api.call(
            "change",
            "POST",
            "/api/v1/deployments",
            person="ci-cd-pipeline",
            at=at,
            body={
                "service": pipeline_name(ci["service"]),
                "environment": "production",
                "result": "succeeded" if succeeded else "failed",
            },
            optional={
                "service_id": ci["service_id"],
                "change_id": change["id"],
                "version": f"{at:%Y.%m.%d}-{change['number']}",
                "started_at": (at - timedelta(minutes=15)).isoformat(),
                "finished_at": at.isoformat(),
            },
        )
    except Refused as exc:
        demo.loaded.notes.append(str(exc))  # the change still counts; the step reports the refusal
        return
    deployment = (recorded or {}).get("deployment") or recorded or {}
    if deployment.get("id"):
        demo.loaded.deployments.append(str(deployment["id"]))


AUTHORISED = ("complete", "review", "close")
"""The last actions of a change done (a release contains those that succeeded)."""


async def load_releases(demo: Demo) -> str:
    """Per service: a standard change template its pipeline deploys under, and a release of the
    service's implemented changes taken through build, acceptance and deployment to production
    (recorded as a production deployment of the release), then closed."""
    api = demo.api
    if not api.has("change", "POST", "/api/v1/releases"):
        raise Missing("change has no POST /releases")
    notes: list[str] = []
    templates = 0
    for plan in SERVICES:
        service_id = demo.loaded.services.get(plan.name)
        if service_id is None:
            continue
        pipeline = pipeline_name(plan.name)
        if api.has("change", "POST", "/api/v1/templates"):
            try:
                await api.call(
                    "change",
                    "POST",
                    "/api/v1/templates",
                    person=CHANGE_MANAGER,
                    body={
                        "name": f"Deploy {plan.name} from its pipeline",
                        "implementation_plan": f"Pipeline {pipeline}: blue/green deployment, smoke tests",
                        "backout_plan": "Switch traffic back to the previous colour",
                    },
                    optional={
                        "description": f"Routine deployments of {plan.name} ({MARKER}).",
                        "category": "software",
                        "service_id": service_id,
                        "pipeline_names": [pipeline],
                        "test_plan": "Smoke tests in the pipeline",
                        "default_duration_minutes": 30,
                    },
                )
                templates += 1
            except Refused as exc:
                notes.append(str(exc))
        contained = [
            c["id"]
            for c in demo.loaded.changes
            if c.get("last_action") in AUTHORISED
            and not c["fails"]
            and demo.loaded.cis[c["ci"]]["service_id"] == service_id
        ]
        version = f"{demo.now:%Y.%m}.{len(contained)}"
        try:
            release = await api.call(
                "change",
                "POST",
                "/api/v1/releases",
                person=CHANGE_MANAGER,
                body={"name": f"{plan.name} {version}", "version": version},
                optional={
                    "type": "minor",
                    "service_id": service_id,
                    "change_ids": contained,
                    "known_error_ids": demo.loaded.known_errors if plan.name == "Customer portal" else [],
                    "planned_date": demo.now.isoformat(),
                    "acceptance_criteria": ["Smoke tests pass", "No open priority 1 incident on the service"],
                },
            )
            url = f"/api/v1/releases/{release['id']}"
            demo.loaded.releases.append(release["id"])
            for action, body in (
                ("build", None),
                ("accept", {"notes": "Acceptance tests passed in staging"}),
                ("deploy", None),
            ):
                await api.call("change", "POST", f"{url}/{action}", person=CHANGE_MANAGER, body=body or {})
            recorded = await api.call(
                "change",
                "POST",
                "/api/v1/deployments",
                person="ci-cd-pipeline",
                body={"service": pipeline, "environment": "production", "result": "succeeded"},
                optional={
                    "service_id": service_id,
                    "release_id": release["id"],
                    "version": version,
                    "started_at": (demo.now - timedelta(minutes=20)).isoformat(),
                    "finished_at": (demo.now - timedelta(minutes=5)).isoformat(),
                },
            )
            deployment = (recorded or {}).get("deployment") or recorded or {}
            if deployment.get("id"):
                demo.loaded.deployments.append(str(deployment["id"]))
            await api.call("change", "POST", f"{url}/close", person=CHANGE_MANAGER)
        except (Refused, Missing) as exc:
            notes.append(str(exc))
    notes += demo.loaded.notes
    summary = (
        f"{templates} standard change templates, {len(demo.loaded.releases)} releases, "
        f"{len(demo.loaded.deployments)} production deployments"
    )
    return summary + (f"; {len(notes)} refused, e.g. {notes[0]}" if notes else "")


Step = tuple[str, Callable[[Demo], Awaitable[str]]]

# Who each report of the standard pack is agreed with (ISO/IEC 20000-1 6.2); a report the
# reporting service offers that is not listed here is agreed with the service owners.
REPORT_PARTIES = {
    "service-levels": ["Customer board", "Service owners"],
    "incidents": ["Service desk manager", "Service owners"],
    "requests": ["Service desk manager", "Service owners"],
    "problems": ["Problem manager", "Service owners"],
    "changes": ["Change manager", "CAB"],
    "dora": ["Engineering leads", "Change manager"],
    "availability": ["Customer board", "Availability manager"],
    "cmdb": ["Configuration manager", "Auditors"],
    "suppliers": ["Supplier manager", "Service owners"],
    "workload": ["Team leads", "Service desk manager"],
    "hotspots": ["Problem manager", "Configuration manager"],
    "significant-events": ["Customer board", "Top management", "Service owners"],
}


async def agree_reports(demo: Demo) -> str:
    """Agree the standard report pack, so that the reporting service schedules its runs: a draft
    per report, then agreed with the parties above (dated at the start of the demo period)."""
    api = demo.api
    if not api.has("reporting", "PUT", "/api/v1/reports/{name}/agreement"):
        raise Missing("reporting has no report agreements")
    reports = (await api.call("reporting", "GET", "/api/v1/reports", person="sam.slm"))["items"]
    standing = await api.call("reporting", "GET", "/api/v1/report-agreements", person="sam.slm")
    agreed_already = {a["report"] for a in standing["items"] if a["scheduled"]}
    at = demo.start - timedelta(days=1)
    for report in reports:
        name = report["name"]
        if name in agreed_already:
            continue
        draft = await api.call(
            "reporting",
            "PUT",
            f"/api/v1/reports/{name}/agreement",
            person="sam.slm",
            at=at,
            body={
                "owner": "Service level manager",
                "agreed_with": REPORT_PARTIES.get(name, ["Service owners"]),
                "distribution_list": [],
                "reason": "standard report pack",
            },
        )
        await api.call(
            "reporting",
            "POST",
            f"/api/v1/reports/{name}/agreement/agree",
            person="sam.slm",
            at=at + timedelta(hours=2),
            body={"reason": "agreed at the service review"},
            headers={"If-Match": f'W/"{draft["version"]}"'},
        )
        demo.loaded.agreed_reports.append(name)
    known = len(agreed_already)
    return f"{len(demo.loaded.agreed_reports)} reports agreed and scheduled" + (
        f" ({known} agreed already)" if known else ""
    )


STEPS: tuple[Step, ...] = (
    ("suppliers", load_suppliers),
    ("service catalogue and CIs", load_catalogue),
    ("contracts", load_contracts),
    ("SLA policies", load_sla_policies),
    ("incidents", load_incidents),
    ("problems", load_problems),
    ("changes", load_changes),
    ("releases and deployments", load_releases),
    ("report agreements", agree_reports),
)


async def already_loaded(api: Api) -> bool:
    """Whether a demo service is in the catalogue (found by name, recognised by its description)."""
    try:
        found = await api.call(
            "config",
            "GET",
            "/api/v1/cis",
            person="demo",
            params={"q": SERVICES[0].name, "type": "business_service", "limit": 50},
        )
    except (Refused, Missing):
        return False
    return any(MARKER in (item.get("description") or "") for item in (found or {}).get("items", []))


async def recall(demo: Demo) -> None:
    """The demo's services and CIs as config has them, when they were loaded by an earlier run."""
    plans = {p.name: p for p in SERVICES}
    services = await demo.api.call(
        "config", "GET", "/api/v1/cis", person="demo", params={"type": "business_service", "limit": 200}
    )
    ours = {s["id"]: plans[s["name"]] for s in services["items"] if s["name"] in plans}
    for service_id, plan in ours.items():
        demo.loaded.services[plan.name] = service_id
        found = await demo.api.call(
            "config", "GET", "/api/v1/cis", person="demo", params={"service_id": service_id, "limit": 200}
        )
        for ci in found["items"]:
            demo.loaded.cis[ci["name"]] = {
                "id": ci["id"],
                "type": ci["type"],
                "service": plan.name,
                "service_id": service_id,
                "group": plan.group,
                "supplier": plan.supplier,
                "supplier_id": ci.get("supplier_id"),
            }


async def run_demo(
    api: Api,
    *,
    days: int,
    seed: int,
    say: Callable[[str], None],
    force: bool = False,
    now: datetime | None = None,
    wait_s: float = 60.0,
) -> Demo:
    demo = Demo(api=api, now=now or datetime.now(UTC), days=days, rng=random.Random(seed), say=say, seed=seed)
    for service in api.urls:
        if not await api.discover(service, within_s=wait_s):
            say(f"[yellow]{service} does not answer at {api.urls[service]}: its parts are skipped[/]")
    if not force and await already_loaded(api):
        say("The demo data set is loaded already (use --force to load another copy).")
        with contextlib.suppress(Refused, Missing):
            await recall(demo)
        return demo
    for name, step in STEPS:
        try:
            summary = await step(demo)
        except Missing as exc:
            say(f"  [yellow]skipped[/] {name}: {exc}")
            continue
        except Refused as exc:
            say(f"  [red]stopped[/] {name}: {exc}")
            continue
        say(f"  [green]✓[/] {name}: {summary}")
    return demo


async def live_incidents(api: Api, demo: Demo, *, every_s: float, say: Callable[[str], None]) -> None:
    """Keep the dashboard moving: a new incident now and then, and an open one resolved."""
    rng = demo.rng
    open_ids: list[str] = []
    names = list(demo.loaded.cis)
    if not names:
        say("[yellow]No demo CIs to raise incidents on (is config running?)[/]")
        return
    while True:
        ci_name = rng.choice(names)
        ci = demo.loaded.cis[ci_name]
        try:
            created = await api.call(
                "incident",
                "POST",
                "/api/v1/incidents",
                person="kim.lee",
                body={
                    "title": f"{ci_name} alert from monitoring",
                    "caller": "monitoring@example.com",
                    "impact": 2,
                    "urgency": rng.choice([1, 2, 3]),
                },
                optional={"ci_id": ci["id"], "service_id": ci["service_id"], "channel": "monitoring"},
            )
            await api.call(
                "incident",
                "POST",
                f"/api/v1/incidents/{created['id']}/assign",
                person="kim.lee",
                body={"assignment_group": ci["group"]},
            )
            open_ids.append(created["id"])
            say(f"  new incident {created['number']} on {ci_name}")
            if len(open_ids) > 3:
                done = open_ids.pop(0)
                for action, body in (("start", {}), ("resolve", {"resolution_code": "fixed"})):
                    path = f"/api/v1/incidents/{done}/{action}"
                    await api.call("incident", "POST", path, person="kim.lee", body=body)
        except (Refused, Missing) as exc:
            say(f"  [yellow]{exc}[/]")
        await asyncio.sleep(every_s)


def parse_urls(values: list[str], defaults: dict[str, str]) -> dict[str, str]:
    urls = dict(defaults)
    for value in values:
        service, sep, url = value.partition("=")
        if not sep or service not in urls:
            raise ValueError(f"--url wants service=URL with a service among {', '.join(urls)}, not {value!r}")
        urls[service] = url.rstrip("/")
    return urls
