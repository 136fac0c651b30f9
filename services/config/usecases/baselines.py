"""Baselines: snapshot a set of CIs (a service and all it depends on, or a query) to compare later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from services.config.domain.baselines import Comparison, compare
from services.config.domain.impact import MAX_DEPTH, Direction
from services.config.domain.items import ConfigItem
from services.config.domain.types import BUSINESS_SERVICE
from services.config.store.baselines import baseline_snapshots, get_baseline, items_by_query, save_baseline
from services.config.store.impact import walk
from services.config.store.items import ConfigItemRepository
from shared import clock
from shared.errors import NotFound, RuleViolation
from shared.uow import UnitOfWork

MAX_BASELINE_ITEMS = 50_000


@dataclass(frozen=True)
class TakeBaseline:
    name: str
    description: str
    actor: str
    service_id: UUID | None = None
    ci_type: str | None = None
    status: str | None = None

    def scope(self) -> dict[str, Any]:
        if self.service_id is not None:
            return {"service_id": str(self.service_id), "with": "everything it depends on"}
        return {"type": self.ci_type, "status": self.status}


async def take_baseline(cmd: TakeBaseline, uow: UnitOfWork) -> Any:
    """The baseline's row as stored (read in its transaction: the answer needs no second connection)."""
    if cmd.service_id is None and cmd.ci_type is None and cmd.status is None:
        raise RuleViolation("say what to snapshot: a service_id, or a type and/or status", field="scope")
    async with uow:
        conn = uow.connection
        items: list[ConfigItem]
        if cmd.service_id is not None:
            service = await ConfigItemRepository(conn).get(cmd.service_id)
            if service is None or service.ci_type != BUSINESS_SERVICE:
                raise RuleViolation(f"{cmd.service_id} is not a business service", field="service_id")
            reached = await walk(conn, service.id, Direction.UPSTREAM, MAX_DEPTH)
            members = await items_by_query(
                conn, ci_type=None, status=None, service_id=service.id, limit=MAX_BASELINE_ITEMS
            )
            found = await ConfigItemRepository(conn).existing(r.ci_id for r in reached)
            items = list({i.id: i for i in [service, *found.values(), *members]}.values())
        else:
            items = await items_by_query(
                conn, ci_type=cmd.ci_type, status=cmd.status, service_id=None, limit=MAX_BASELINE_ITEMS
            )
        baseline_id = uuid4()
        await save_baseline(
            conn,
            {
                "id": baseline_id,
                "name": cmd.name,
                "description": cmd.description,
                "scope": cmd.scope(),
                "created_at": clock.now(),
                "created_by": cmd.actor,
                "item_count": len(items),
            },
            items,
        )
        taken = await get_baseline(conn, baseline_id)
        await uow.commit()
    return taken


async def compare_baseline(uow: UnitOfWork, baseline_id: UUID, other_id: UUID | None) -> Comparison:
    """The baseline against another one, or (without one) against the same CIs as they are now.

    Against now, CIs that the scope would take in today are not added: a baseline compares the
    set it froze. A CI of the set that is retired since shows as changed (its status)."""
    async with uow:
        conn = uow.connection
        if await get_baseline(conn, baseline_id) is None:
            raise NotFound(f"baseline {baseline_id} does not exist")
        before = await baseline_snapshots(conn, baseline_id)
        if other_id is not None:
            if await get_baseline(conn, other_id) is None:
                raise NotFound(f"baseline {other_id} does not exist")
            after = await baseline_snapshots(conn, other_id)
        else:
            current = await ConfigItemRepository(conn).existing(UUID(i) for i in before)
            after = {str(i.id): i.snapshot() for i in current.values()}
    return compare(before, after)
