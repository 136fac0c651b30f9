"""Release use cases: plan a release, then one named function per step of its lifecycle."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from services.change.domain.releases import Release, ReleaseType
from services.change.events import release_contract
from services.change.store import releases as store
from services.change.store.changes import change_statuses
from shared import clock
from shared.errors import RuleViolation, check_version, found
from shared.numbering import format_number
from shared.uow import AnyUnitOfWork


@dataclass(frozen=True)
class PlanRelease:
    name: str
    version: str
    release_type: ReleaseType
    actor: str
    service_id: UUID | None = None
    change_ids: tuple[UUID, ...] = ()
    known_error_ids: tuple[UUID, ...] = ()
    planned_date: datetime | None = None
    acceptance_criteria: tuple[str, ...] = ()


async def plan_release(cmd: PlanRelease, uow: AnyUnitOfWork) -> Release:
    async with uow:
        conn = uow.connection
        known = await change_statuses(conn, cmd.change_ids)
        if missing := [str(c) for c in cmd.change_ids if c not in known]:
            raise RuleViolation(f"no such change: {', '.join(missing)}", field="change_ids")
        item = Release.plan(
            release_id=uuid4(),
            number=format_number("REL", await store.next_release_number(conn)),
            name=cmd.name,
            version=cmd.version,
            release_type=cmd.release_type,
            service_id=cmd.service_id,
            change_ids=cmd.change_ids,
            known_error_ids=cmd.known_error_ids,
            planned_date=cmd.planned_date,
            acceptance_criteria=cmd.acceptance_criteria,
            actor=cmd.actor,
            now=clock.now(),
        )
        await store.add_release(conn, item)
        uow.emit_pending(item, release_contract)
        await uow.commit()
    return item


ReleaseStep = Callable[[Release, datetime, Mapping[UUID, tuple[str, str]]], None]


@dataclass(frozen=True)
class ReleaseAct:
    """A step on a release: by whom, on which release, at which version (If-Match; None: any)."""

    release_id: UUID
    actor: str
    expected_version: int | None = None


async def _act_on_release(act: ReleaseAct, uow: AnyUnitOfWork, step: ReleaseStep) -> Release:
    """The one way a release step is taken: lock, check If-Match, take `step`, save, publish."""
    async with uow:
        conn = uow.connection
        item = found(await store.get_release(conn, act.release_id, for_update=True), f"release {act.release_id}")
        check_version(item.number, item.row_version, act.expected_version)
        read_version = item.row_version
        step(item, clock.now(), await change_statuses(conn, item.change_ids))
        await store.save_release(conn, item, read_version)
        uow.emit_pending(item, release_contract)
        await uow.commit()
    return item


async def build_release(act: ReleaseAct, uow: AnyUnitOfWork) -> Release:
    return await _act_on_release(act, uow, lambda r, now, _: r.build(act.actor, now))


async def accept_release(act: ReleaseAct, notes: str, uow: AnyUnitOfWork) -> Release:
    """The acceptance test passed."""
    return await _act_on_release(act, uow, lambda r, now, _: r.accept(notes, act.actor, now))


async def reject_release(act: ReleaseAct, notes: str, uow: AnyUnitOfWork) -> Release:
    """The acceptance test failed."""
    return await _act_on_release(act, uow, lambda r, now, _: r.reject(notes, act.actor, now))


async def deploy_release(act: ReleaseAct, uow: AnyUnitOfWork) -> Release:
    """Deployed to production: every change it contains must have been approved."""
    return await _act_on_release(act, uow, lambda r, now, changes: r.deploy(act.actor, now, changes))


async def fail_release(act: ReleaseAct, notes: str, uow: AnyUnitOfWork) -> Release:
    return await _act_on_release(act, uow, lambda r, now, _: r.fail(notes, act.actor, now))


async def close_release(act: ReleaseAct, uow: AnyUnitOfWork) -> Release:
    return await _act_on_release(act, uow, lambda r, now, _: r.close(act.actor, now))


async def cancel_release(act: ReleaseAct, uow: AnyUnitOfWork) -> Release:
    return await _act_on_release(act, uow, lambda r, now, _: r.cancel(act.actor, now))
