"""The contract expiry watcher, a scheduled job of the worker (shared.periodic).

Each pass finds contracts whose notice deadline comes within `contract_expiry_warning_days`
(-> expiring, `contract.expiring.v1`) or whose end has come (-> expired, `contract.expired.v1`).
Every contract is handled in its own transaction: lock the row (SKIP LOCKED: another replica has
it), ask the domain what is due, insert the notice key (contract, kind, deadline) and, only if that
insert took, move the contract and emit the event. The key makes each event once per contract and
deadline whatever the number of replicas or restarts; a renewal brings a new deadline, so the next
term is watched again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from services.supplier import events
from services.supplier.domain.contracts import ContractAction
from services.supplier.store import ContractRepository
from services.supplier.store.contracts import due_for_expiry_watch
from shared.periodic import JobContext
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

JOB_NAME = "contract-expiry"


async def watch_contract_expiry(ctx: JobContext) -> None:
    warning_days = int(ctx.settings.contract_expiry_warning_days)
    async with ctx.engine.connect() as conn:
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
        await uow.commit()
        log.info("contract %s: %s", contract.number, action.value)
