"""Steps `suppliers` and `contracts`: the suppliers, then an active underpinning contract per
supplier covering its demo CIs, with targets per priority, and for the first two of them the
access the supplier's support staff hold on one of those CIs (supplier service).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from itsm.demo.client import Missing, Refused
from itsm.demo.dataset import MARKER, SUPPLIERS
from itsm.demo.state import Demo


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
    active = grants = 0
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
            continue
        if grants < len(ACCESS_PLANS):
            try:
                at = demo.start - timedelta(days=1) + timedelta(hours=2)
                await grant_access(demo, ACCESS_PLANS[grants], name, supplier_id, contract["id"], covered[0], at)
                grants += 1
            except (Refused, Missing) as exc:
                notes.append(str(exc))
    summary = f"{len(demo.loaded.contracts)} contracts ({active} active, {grants} access grants)"
    return summary + (f"; {len(notes)} refused, e.g. {notes[0]}" if notes else "")


# The access a supplier's people hold on the CIs it supports (6.6.2): type, classification, holders.
ACCESS_PLANS: tuple[dict[str, Any], ...] = (
    {"access_type": "remote_support", "classification": "confidential", "holders": ["2nd-line support team"]},
    {"access_type": "admin", "classification": "internal", "holders": ["on-call engineer", "service desk lead"]},
)


async def grant_access(
    demo: Demo, plan: dict[str, Any], name: str, supplier_id: str, contract_id: str, ci: dict[str, Any], at: datetime
) -> None:
    """Record and grant one access of the supplier's staff to a CI it supports, under its contract."""
    grant = await demo.api.call(
        "supplier",
        "POST",
        f"/api/v1/suppliers/{supplier_id}/access-grants",
        person="pat.supplier",
        at=at,
        body={
            "contract_id": contract_id,
            "ci_id": ci["id"],
            "purpose": f"{name} supports {ci['service']} under its support agreement ({MARKER}).",
            "owner": "pat.supplier",
            "expires_on": (demo.start + timedelta(days=365)).isoformat(),
            **plan,
        },
        optional={"legal_basis": "Support agreement, security and confidentiality clause", "review_interval_days": 90},
    )
    await demo.api.call(
        "supplier",
        "POST",
        f"/api/v1/access-grants/{grant['id']}/grant",
        person="pat.supplier",
        at=at + timedelta(minutes=30),
    )
