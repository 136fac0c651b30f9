"""Step `releases and deployments`: per service a standard change template and a release taken to
production; and the deployment record a change's pipeline reports (used by the changes step).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from itsm.demo.client import Missing, Refused
from itsm.demo.dataset import CHANGE_MANAGER, MARKER, SERVICES
from itsm.demo.state import Demo


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
