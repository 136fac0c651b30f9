"""Access register use cases (ISO/IEC 20000-1 6.6.2): record a supplier's access request, grant,
review and revoke it (one transaction each), and the access watcher (a scheduled job of the worker)
that puts grants under review when their review falls due and expires them at their expiry."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from services.supplier import events
from services.supplier.domain.access import AccessGrant, AccessType, Classification, GrantAction, Review
from services.supplier.domain.records import Edit
from services.supplier.store.access import AccessGrantRepository, due_for_access_watch
from services.supplier.store.contracts import ContractRepository
from services.supplier.usecases.contracts import check_contract_of
from services.supplier.usecases.suppliers import check_cis, require_supplier
from shared import clock
from shared.db import reading
from shared.errors import RuleViolation, found
from shared.numbering import format_number
from shared.periodic import JobContext
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestAccess:
    supplier_id: UUID
    contract_id: UUID
    access_type: AccessType
    classification: Classification
    purpose: str
    holders: tuple[str, ...]
    owner: str
    expires_on: datetime
    review_interval_days: int
    legal_basis: str = ""
    service_id: UUID | None = None
    ci_id: UUID | None = None
    system: str = ""


def _emit(uow: UnitOfWork, grant: AccessGrant) -> None:
    for data in events.access_events(grant):
        uow.emit(data, subject=str(grant.id))


async def request_access(cmd: RequestAccess, actor: str, uow: UnitOfWork) -> AccessGrant:
    """Record a supplier's access in the register, as requested (granted by a separate action)."""
    async with uow:
        conn = uow.connection
        await require_supplier(conn, cmd.supplier_id)
        await check_contract_of(conn, cmd.contract_id, cmd.supplier_id)
        if cmd.service_id is not None:
            await check_cis(conn, [cmd.service_id], field="service_id")
        if cmd.ci_id is not None:
            await check_cis(conn, [cmd.ci_id], field="ci_id")
        grants = AccessGrantRepository(conn)
        grant = AccessGrant.request(
            grant_id=uuid4(),
            number=format_number("ACC", await grants.next_number()),
            supplier_id=cmd.supplier_id,
            contract_id=cmd.contract_id,
            legal_basis=cmd.legal_basis,
            service_id=cmd.service_id,
            ci_id=cmd.ci_id,
            system=cmd.system,
            access_type=cmd.access_type,
            classification=cmd.classification,
            purpose=cmd.purpose,
            holders=cmd.holders,
            owner=cmd.owner,
            expires_on=cmd.expires_on,
            review_interval_days=cmd.review_interval_days,
            actor=actor,
            now=clock.now(),
        )
        await grants.add(grant)
        _emit(uow, grant)
        await uow.commit()
    return grant


async def _act(
    grant_id: UUID, edit: Edit, uow: UnitOfWork, apply: Callable[[AccessGrant, datetime], None]
) -> AccessGrant:
    async with uow:
        grants = AccessGrantRepository(uow.connection)
        grant = found(await grants.get(grant_id, for_update=True), f"access grant {grant_id}")
        edit.check(grant.number, grant.version)
        apply(grant, clock.now())
        await grants.save(grant)
        _emit(uow, grant)
        await uow.commit()
    return grant


async def grant_access(grant_id: UUID, note: str, edit: Edit, uow: UnitOfWork) -> AccessGrant:
    """Grant a requested access; the contract it rests on must be in force."""
    async with uow:
        grants = AccessGrantRepository(uow.connection)
        grant = found(await grants.get(grant_id, for_update=True), f"access grant {grant_id}")
        edit.check(grant.number, grant.version)
        now = clock.now()
        grant.grant(actor=edit.actor, now=now, note=note)  # the state check comes before the contract's
        contract = await ContractRepository(uow.connection).get(grant.contract_id)
        if contract is None or not contract.in_force:
            state = contract.status.value if contract else "missing"
            raise RuleViolation(f"access rests on a contract in force; the contract is {state}", field="contract_id")
        await grants.save(grant)
        _emit(uow, grant)
        await uow.commit()
    return grant


async def review_access(grant_id: UUID, review: Review, edit: Edit, uow: UnitOfWork) -> AccessGrant:
    def apply(grant: AccessGrant, now: datetime) -> None:
        grant.review(review, actor=edit.actor, now=now)

    return await _act(grant_id, edit, uow, apply)


async def revoke_access(grant_id: UUID, reason: str, edit: Edit, uow: UnitOfWork) -> AccessGrant:
    def apply(grant: AccessGrant, now: datetime) -> None:
        grant.revoke(reason=reason, actor=edit.actor, now=now)

    return await _act(grant_id, edit, uow, apply)


# ---------------------------------------------------------------------------- access watcher

JOB_NAME = "access-watch"


async def watch_access(ctx: JobContext) -> None:
    """The access watcher, a scheduled job of the worker (shared.periodic).

    Each pass finds grants whose next review has come (-> under review,
    `supplier.access_review_due.v1`) or whose expiry has (-> expired, `supplier.access_expired.v1`).
    Every grant is handled in its own transaction: lock the row (SKIP LOCKED: another replica has
    it), ask the domain what is due, insert the notice key (grant, kind, date) and, only if that
    insert took, move the grant and emit the event. The key makes each event once per grant and
    date whatever the number of replicas or restarts; a review brings a new review date, so the
    grant is watched again for it.
    """
    async with reading(ctx.engine) as conn:
        candidates = await due_for_access_watch(conn, ctx.now)
    for grant_id in candidates:
        await _watch_one(ctx.unit_of_work(), grant_id, ctx.now)


async def _watch_one(uow: UnitOfWork, grant_id: UUID, now: datetime) -> None:
    async with uow:
        grants = AccessGrantRepository(uow.connection)
        grant = await grants.get(grant_id, for_update=True, skip_locked=True)
        if grant is None:
            return  # another replica holds it now
        action = grant.due_action(now)
        if action is GrantAction.MARK_REVIEW_DUE and grant.next_review_on is not None:
            if not await grants.claim_notice(grant.id, "review_due", grant.next_review_on, now):
                return
            grant.mark_review_due(now=now)
        elif action is GrantAction.EXPIRE:
            if not await grants.claim_notice(grant.id, "expired", grant.expires_on, now):
                return
            grant.expire(now=now)
        else:
            return
        await grants.save(grant)
        _emit(uow, grant)
        await uow.commit()
        log.info("access grant %s: %s", grant.number, action.value)
