"""Step `service catalogue and CIs`: the business services, the CIs they run on and their
relationships, in config.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from itsm.demo.client import Refused
from itsm.demo.dataset import FLAKY_CIS, MARKER, SERVICES
from itsm.demo.state import Demo


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
