"""Contract use cases: draft, edit while draft, the lifecycle actions and amendments, and the expiry
watcher (a scheduled job of the worker). A contract that ends (terminated, or expired by the
watcher) revokes the access grants resting on it in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier import events
from services.supplier.domain.contracts import WATCHER as EXPIRY_WATCHER
from services.supplier.domain.contracts import Amendment, Contract, ContractAction
from services.supplier.domain.records import Edit
from services.supplier.domain.suppliers import SupplierStatus
from services.supplier.store.access import AccessGrantRepository
from services.supplier.store.contracts import ContractRepository, due_for_expiry_watch
from services.supplier.store.governance import ReviewRepository
from services.supplier.usecases.suppliers import check_cis, require_supplier
from shared import clock
from shared.db import reading
from shared.errors import RuleViolation, found
from shared.numbering import format_number
from shared.periodic import JobContext
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


def _emit(uow: UnitOfWork, contract: Contract) -> None:
    for data in events.contract_events(contract):
        uow.emit(data, subject=str(contract.id))


async def draft_contract(supplier_id: UUID, terms: Mapping[str, Any], actor: str, uow: UnitOfWork) -> Contract:
    async with uow:
        conn = uow.connection
        supplier = await require_supplier(conn, supplier_id, field="supplier_id")
        if supplier.status is SupplierStatus.EXITED:
            raise RuleViolation(f"{supplier.number} has exited: no new contract with it", field="supplier_id")
        await check_cis(conn, terms.get("ci_ids", ()), field="ci_ids")
        await check_cis(conn, terms.get("service_ids", ()), field="service_ids")
        contracts = ContractRepository(conn)
        contract = Contract.draft(
            contract_id=uuid4(),
            number=format_number("CTR", await contracts.next_number()),
            supplier_id=supplier_id,
            terms=terms,
            actor=actor,
            now=clock.now(),
        )
        await contracts.add(contract)
        _emit(uow, contract)
        await uow.commit()
    return contract


Check = Callable[[AsyncConnection, Contract], Awaitable[None]]
Then = Callable[[UnitOfWork, Contract, datetime], Awaitable[None]]


async def _no_check(_conn: AsyncConnection, _contract: Contract) -> None:
    return None


async def _act(
    contract_id: UUID,
    edit: Edit,
    uow: UnitOfWork,
    apply: Callable[[Contract, datetime], Amendment | None],
    check: Check = _no_check,
    then: Then | None = None,
) -> tuple[Contract, Amendment | None]:
    """Load and lock the contract, check the version read, run `check` (against other records)
    and `apply` (the domain action), then save, emit, run `then` (what follows on other records)
    and commit, all in one transaction."""
    async with uow:
        contracts = ContractRepository(uow.connection)
        contract = found(await contracts.get(contract_id, for_update=True), f"contract {contract_id}")
        edit.check(contract.number, contract.version)
        await check(uow.connection, contract)
        version, now = contract.version, clock.now()
        amendment = apply(contract, now)
        if contract.version != version:
            await contracts.save(contract, amendment)
            _emit(uow, contract)
            if then is not None:
                await then(uow, contract, now)
            await uow.commit()
    return contract, amendment


async def edit_contract(contract_id: UUID, values: Mapping[str, Any], edit: Edit, uow: UnitOfWork) -> Contract:
    async def new_cis(conn: AsyncConnection, contract: Contract) -> None:
        await check_cis(conn, set(values.get("ci_ids", ())) - set(contract.ci_ids), field="ci_ids")
        await check_cis(conn, set(values.get("service_ids", ())) - set(contract.service_ids), field="service_ids")

    def apply(c: Contract, now: datetime) -> None:
        c.edit(values, actor=edit.actor, now=now)

    return (await _act(contract_id, edit, uow, apply, new_cis))[0]


async def activate_contract(contract_id: UUID, edit: Edit, uow: UnitOfWork) -> Contract:
    async def cis_still_live(conn: AsyncConnection, contract: Contract) -> None:
        # The CIs may have been retired since the draft was written.
        if not contract.in_force:
            await check_cis(conn, contract.ci_ids, field="ci_ids")
            await check_cis(conn, contract.service_ids, field="service_ids")

    def apply(c: Contract, now: datetime) -> None:
        c.activate(actor=edit.actor, now=now)

    return (await _act(contract_id, edit, uow, apply, cis_still_live))[0]


async def cancel_contract(contract_id: UUID, reason: str, edit: Edit, uow: UnitOfWork) -> Contract:
    def apply(c: Contract, now: datetime) -> None:
        c.cancel(reason=reason, actor=edit.actor, now=now)

    return (await _act(contract_id, edit, uow, apply))[0]


async def renew_contract(contract_id: UUID, ends_on: datetime, reason: str, edit: Edit, uow: UnitOfWork) -> Contract:
    def apply(c: Contract, now: datetime) -> None:
        c.renew(ends_on=ends_on, reason=reason, actor=edit.actor, now=now)

    return (await _act(contract_id, edit, uow, apply))[0]


async def terminate_contract(contract_id: UUID, reason: str, edit: Edit, uow: UnitOfWork) -> Contract:
    def apply(c: Contract, now: datetime) -> None:
        c.terminate(reason=reason, actor=edit.actor, now=now)

    async def revoke_access(uow: UnitOfWork, c: Contract, now: datetime) -> None:
        await _revoke_access_resting_on(uow, c, actor=edit.actor, now=now)

    return (await _act(contract_id, edit, uow, apply, then=revoke_access))[0]


async def _revoke_access_resting_on(uow: UnitOfWork, contract: Contract, *, actor: str, now: datetime) -> None:
    """The contract has just ended: revoke every access grant on it still requested, granted or
    under review (ISO/IEC 20000-1 6.6.2), each with its history and `supplier.access_revoked.v1`."""
    grants = AccessGrantRepository(uow.connection)
    for grant in await grants.open_on_contract(contract.id):
        grant.end_with_contract(contract.number, contract.status.value, actor=actor, now=now)
        await grants.save(grant)
        for data in events.access_events(grant):
            uow.emit(data, subject=str(grant.id))
        log.info("access grant %s revoked: contract %s %s", grant.number, contract.number, contract.status.value)


async def amend_contract(
    contract_id: UUID,
    values: Mapping[str, Any],
    reason: str,
    review_id: UUID | None,
    edit: Edit,
    uow: UnitOfWork,
) -> tuple[Contract, Amendment]:
    async def references(conn: AsyncConnection, contract: Contract) -> None:
        if review_id is not None:
            review = await ReviewRepository(conn).get(review_id)
            if review is None or review.supplier_id != contract.supplier_id:
                raise RuleViolation(f"there is no review {review_id} of this contract's supplier", field="review_id")
        await check_cis(conn, set(values.get("ci_ids", ())) - set(contract.ci_ids), field="changes.ci_ids")
        await check_cis(
            conn, set(values.get("service_ids", ())) - set(contract.service_ids), field="changes.service_ids"
        )

    def apply(c: Contract, now: datetime) -> Amendment:
        return c.amend(values, reason=reason, actor=edit.actor, now=now, review_id=review_id)

    contract, amendment = await _act(contract_id, edit, uow, apply, references)
    assert amendment is not None  # amend either records one or raises
    return contract, amendment


async def check_contract_of(conn: AsyncConnection, contract_id: UUID | None, supplier_id: UUID) -> None:
    """A contract named in a body (a register entry, a review, a dispute) must be with that supplier."""
    if contract_id is None:
        return
    contract = await ContractRepository(conn).get(contract_id)
    if contract is None or contract.supplier_id != supplier_id:
        raise RuleViolation(f"there is no contract {contract_id} with this supplier", field="contract_id")


# ---------------------------------------------------------------------------- expiry watcher

JOB_NAME = "contract-expiry"


async def watch_contract_expiry(ctx: JobContext) -> None:
    """The contract expiry watcher, a scheduled job of the worker (shared.periodic).

    Each pass finds contracts whose notice deadline comes within `contract_expiry_warning_days`
    (-> expiring, `contract.expiring.v1`) or whose end has come (-> expired, `contract.expired.v1`).
    Every contract is handled in its own transaction: lock the row (SKIP LOCKED: another replica has
    it), ask the domain what is due, insert the notice key (contract, kind, deadline) and, only if that
    insert took, move the contract and emit the event. The key makes each event once per contract and
    deadline whatever the number of replicas or restarts; a renewal brings a new deadline, so the next
    term is watched again.
    """
    warning_days = int(ctx.settings.contract_expiry_warning_days)
    async with reading(ctx.engine) as conn:
        candidates = await due_for_expiry_watch(conn, ctx.now, warning_days)
    for contract_id in candidates:
        await _watch_one(ctx.unit_of_work(), contract_id, ctx.now, warning_days)


async def _watch_one(uow: UnitOfWork, contract_id: UUID, now: datetime, warning_days: int) -> None:
    async with uow:
        contracts = ContractRepository(uow.connection)
        contract = await contracts.get(contract_id, for_update=True, skip_locked=True)
        if contract is None:
            return  # another replica holds it now
        action = contract.due_action(now, warning_days)
        if action is ContractAction.MARK_EXPIRING:
            if not await contracts.claim_notice(contract.id, "expiring", contract.notice_deadline, now):
                return
            contract.mark_expiring(now=now)
        elif action is ContractAction.EXPIRE:
            if not await contracts.claim_notice(contract.id, "expired", contract.ends_on, now):
                return
            contract.expire(now=now)
        else:
            return
        await contracts.save(contract)
        for data in events.contract_events(contract):
            uow.emit(data, subject=str(contract.id))
        if action is ContractAction.EXPIRE:
            await _revoke_access_resting_on(uow, contract, actor=EXPIRY_WATCHER, now=now)
        await uow.commit()
        log.info("contract %s: %s", contract.number, action.value)
