"""`itsm repair`: per service, find the records earlier versions stored that the current code
cannot read back or would refuse (the service's `usecases/repair.py` says where and by which
rule), and with `apply` fix them through the service's repair use case."""

from __future__ import annotations

from dataclasses import dataclass

from itsm.registry import ServiceEntry
from shared.db import create_engine
from shared.repair import Finding, find_damage, repair
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class ServiceRepair:
    service: str
    findings: list[Finding]
    repaired: int
    left: list[Finding]
    """What a scan after the repair still finds (empty when every fix held)."""


async def repair_service(service: ServiceEntry, *, apply: bool) -> ServiceRepair:
    targets = service.repair_targets
    if not targets:
        return ServiceRepair(service.name, [], 0, [])
    spec, settings = service.spec, service.settings()
    engine = create_engine(settings.database_url)

    def unit_of_work() -> UnitOfWork:
        # No relay here: the service's relay publishes the repairs' events from the outbox.
        return UnitOfWork(engine, spec.outbox, source=f"/itsm/{spec.name}", settings=settings)

    try:
        findings: list[Finding] = []
        repaired = 0
        left: list[Finding] = []
        for target in targets:
            async with engine.connect() as conn:
                found = await find_damage(conn, target)
            findings.extend(found)
            if apply and found:
                repaired += await repair(unit_of_work, target, found)
                async with engine.connect() as conn:
                    left.extend(await find_damage(conn, target))
        return ServiceRepair(service.name, findings, repaired, left)
    finally:
        await engine.dispose()
