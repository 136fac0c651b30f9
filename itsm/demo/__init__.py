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

Layout: `client.py` the HTTP plumbing, `dataset.py` the data set, `state.py` one run; then one
module per step (suppliers, cmdb, sla, incidents, problems, changes, releases, continuity, budgets, reports,
surveys, records, improvement).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from itsm.demo.budgets import load_budgets
from itsm.demo.changes import load_changes
from itsm.demo.client import Api, Missing, Refused
from itsm.demo.cmdb import load_catalogue
from itsm.demo.continuity import load_continuity_plans
from itsm.demo.dataset import AGENTS, MARKER, SERVICES
from itsm.demo.improvement import load_improvement
from itsm.demo.incidents import load_incidents
from itsm.demo.problems import load_problems
from itsm.demo.records import keep_records
from itsm.demo.releases import load_releases
from itsm.demo.reports import agree_reports
from itsm.demo.sla import load_sla_policies
from itsm.demo.state import Demo
from itsm.demo.suppliers import load_contracts, load_suppliers
from itsm.demo.surveys import answer_surveys

__all__ = ["STEPS", "Api", "Demo", "live_incidents", "parse_urls", "run_demo"]

Step = tuple[str, Callable[[Demo], Awaitable[str]]]

STEPS: tuple[Step, ...] = (
    ("suppliers", load_suppliers),
    ("service catalogue and CIs", load_catalogue),
    ("contracts", load_contracts),
    ("SLA policies", load_sla_policies),
    ("incidents", load_incidents),
    ("problems", load_problems),
    ("changes", load_changes),
    ("releases and deployments", load_releases),
    ("continuity plans", load_continuity_plans),
    ("budgets", load_budgets),
    ("report agreements", agree_reports),
    ("customer surveys", answer_surveys),
    ("records retention", keep_records),
    ("improvement and audits", load_improvement),
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
    open_ids: list[tuple[str, str]] = []
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
            open_ids.append((created["id"], ci["group"]))
            say(f"  new incident {created['number']} on {ci_name}")
            if len(open_ids) > 3:
                done, group = open_ids.pop(0)
                worker = AGENTS[group][0]  # an agent works what is assigned to their group
                for action, body in (("start", {}), ("resolve", {"resolution_code": "fixed"})):
                    path = f"/api/v1/incidents/{done}/{action}"
                    await api.call("incident", "POST", path, person=worker, body=body)
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
