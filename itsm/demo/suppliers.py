"""Steps `suppliers` and `contracts`: the suppliers, then an active underpinning contract per
supplier covering its demo CIs, with targets per priority (supplier service).
"""

from __future__ import annotations

from datetime import timedelta

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
