"""Contracts: the repository (terms, coverage, amendments, history) and the watcher's queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier.domain.contracts import (
    IN_FORCE,
    Amendment,
    Contract,
    ContractMoved,
    ContractRecorded,
    ContractStatus,
)
from services.supplier.domain.records import jsonable
from services.supplier.domain.terms import ChargingBasis, ReportingObligation, ServiceTarget
from services.supplier.store.history import Entry, write_history
from services.supplier.store.tables import contract, contract_amendment, contract_coverage, contract_notice
from shared.db import insert_ignoring_duplicates, page, record_of, row_by_id, row_values, update_versioned, where_given
from shared.numbering import next_number

RECORD_TYPE = "contract"


def _to_row(item: Contract) -> dict[str, Any]:
    return row_values(
        contract,
        item,
        status=item.status.value,
        service_ids=jsonable(item.service_ids),
        ci_ids=jsonable(item.ci_ids),
        charging_basis=item.charging_basis.value,
        targets=jsonable(item.targets),
        reporting_obligations=jsonable(item.reporting_obligations),
        document_refs=list(item.document_refs),
    )


def _to_domain(row: Any) -> Contract:
    return record_of(
        Contract,
        row,
        status=ContractStatus(row.status),
        service_ids=tuple(UUID(i) for i in row.service_ids),
        ci_ids=tuple(UUID(i) for i in row.ci_ids),
        value=Decimal(row.value) if row.value is not None else None,
        charging_basis=ChargingBasis(row.charging_basis),
        targets=tuple(ServiceTarget(**t) for t in row.targets),
        reporting_obligations=tuple(ReportingObligation(**o) for o in row.reporting_obligations),
        document_refs=tuple(row.document_refs),
    )


class ContractRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        return await next_number(self._conn, "contract")

    async def add(self, item: Contract) -> None:
        await self._conn.execute(contract.insert().values(_to_row(item)))
        await self._write_coverage(item)
        await self._history(item)

    async def get(self, contract_id: UUID, *, for_update: bool = False, skip_locked: bool = False) -> Contract | None:
        row = await row_by_id(self._conn, contract, contract_id, for_update=for_update, skip_locked=skip_locked)
        return _to_domain(row) if row else None

    async def save(self, item: Contract, amendment: Amendment | None = None) -> None:
        """Write a changed contract if nobody else did since it was read, with its history."""
        values = _to_row(item)
        del values["id"], values["number"], values["created_at"], values["supplier_id"]
        await update_versioned(self._conn, contract, item.id, item.version - 1, values, label=item.number)
        if any(
            isinstance(e, ContractMoved) and {"ci_ids", "service_ids"} & set(e.changes) for e in item.pending_events
        ):
            await self._conn.execute(delete(contract_coverage).where(contract_coverage.c.contract_id == item.id))
            await self._write_coverage(item)
        if amendment is not None:
            await self._conn.execute(
                contract_amendment.insert().values(
                    contract_id=amendment.contract_id,
                    number=amendment.number,
                    reason=amendment.reason,
                    changes={k: list(v) for k, v in amendment.changes.items()},
                    review_id=amendment.review_id,
                    actor=amendment.actor,
                    at=amendment.at,
                )
            )
        await self._history(item)

    async def _write_coverage(self, item: Contract) -> None:
        rows = [{"contract_id": item.id, "item_kind": "ci", "item_id": i} for i in item.ci_ids] + [
            {"contract_id": item.id, "item_kind": "service", "item_id": i} for i in item.service_ids
        ]
        if rows:
            await self._conn.execute(insert(contract_coverage), rows)

    async def _history(self, item: Contract) -> None:
        entries = [
            Entry(e.action.value, e.actor, e.changes, e.reason, e.amendment)
            if isinstance(e, ContractMoved)
            else Entry("create", e.actor, {"status": (None, ContractStatus.DRAFT.value)})
            for e in item.pending_events
            if isinstance(e, ContractMoved | ContractRecorded)
        ]
        await write_history(self._conn, RECORD_TYPE, item.id, item.version, item.updated_at, entries)

    async def claim_notice(self, contract_id: UUID, kind: str, deadline: datetime, now: datetime) -> bool:
        """Record that `kind` was raised for this contract and deadline; False if it already was."""
        values = {"contract_id": contract_id, "kind": kind, "deadline": deadline, "notified_at": now}
        stmt = insert_ignoring_duplicates(contract_notice, values, returning="contract_id")
        return (await self._conn.execute(stmt, values)).first() is not None


async def get_contract(conn: AsyncConnection, contract_id: UUID) -> Contract | None:
    return await ContractRepository(conn).get(contract_id)


async def list_contracts(
    conn: AsyncConnection,
    *,
    supplier_id: UUID | None,
    status: str | None,
    ci_id: UUID | None,
    limit: int,
    offset: int,
) -> tuple[list[Contract], int]:
    query = where_given(select(contract), contract, supplier_id=supplier_id, status=status)
    if ci_id is not None:
        covering = select(contract_coverage.c.contract_id).where(
            contract_coverage.c.item_kind == "ci", contract_coverage.c.item_id == ci_id
        )
        query = query.where(contract.c.id.in_(covering))
    rows, total = await page(conn, query, contract.c.created_at.desc(), contract.c.id, limit=limit, offset=offset)
    return [_to_domain(r) for r in rows], total


async def contracts_of(conn: AsyncConnection, supplier_ids: Iterable[UUID]) -> list[Contract]:
    ids = list(supplier_ids)
    if not ids:
        return []
    rows = await conn.execute(select(contract).where(contract.c.supplier_id.in_(ids)).order_by(contract.c.number))
    return [_to_domain(r) for r in rows]


async def amendments_of(conn: AsyncConnection, contract_id: UUID) -> list[Any]:
    t = contract_amendment
    return list(await conn.execute(select(t).where(t.c.contract_id == contract_id).order_by(t.c.number)))


async def amendments_from_review(conn: AsyncConnection, review_id: UUID) -> list[Any]:
    t = contract_amendment
    query = (
        select(t, contract.c.number.label("contract_number"))
        .join(contract, contract.c.id == t.c.contract_id)
        .where(t.c.review_id == review_id)
        .order_by(contract.c.number, t.c.number)
    )
    return list(await conn.execute(query))


async def in_force_covering(
    conn: AsyncConnection, *, ci_ids: Iterable[UUID], service_ids: Iterable[UUID], supplier_id: UUID | None
) -> list[Contract]:
    """Contracts in force that cover any of these CIs or services, or (given a supplier the work
    was assigned to) any contract in force of that supplier; oldest first."""
    cis, services = list(ci_ids), list(service_ids)
    cov = contract_coverage
    reasons: list[ColumnElement[bool]] = []
    if cis:
        reasons.append(
            contract.c.id.in_(select(cov.c.contract_id).where(cov.c.item_kind == "ci", cov.c.item_id.in_(cis)))
        )
    if services:
        reasons.append(
            contract.c.id.in_(
                select(cov.c.contract_id).where(cov.c.item_kind == "service", cov.c.item_id.in_(services))
            )
        )
    if supplier_id is not None:
        reasons.append(contract.c.supplier_id == supplier_id)
    if not reasons:
        return []
    query = (
        select(contract)
        .where(contract.c.status.in_([s.value for s in IN_FORCE]), or_(*reasons))
        .order_by(contract.c.activated_at, contract.c.number)
    )
    return [_to_domain(r) for r in await conn.execute(query)]


async def due_for_expiry_watch(conn: AsyncConnection, now: datetime, warning_days: int) -> list[UUID]:
    """Contracts that may need the watcher now: in force and past their end, or active and with
    their notice deadline within `warning_days` (the domain decides; this only narrows)."""
    horizon = now + timedelta(days=warning_days)
    query = select(contract.c.id, contract.c.ends_on, contract.c.notice_period_days).where(
        or_(
            and_(contract.c.status.in_([s.value for s in IN_FORCE]), contract.c.ends_on <= now),
            contract.c.status == ContractStatus.ACTIVE.value,
        )
    )
    ids: list[UUID] = []
    for row in await conn.execute(query.order_by(contract.c.id)):
        # The deadline is ends_on minus a per-row number of days: simplest to compare here, on
        # the few contracts in force, than in SQL that differs between PostgreSQL and SQLite.
        if row.ends_on - timedelta(days=row.notice_period_days) <= horizon or row.ends_on <= now:
            ids.append(row.id)
    return ids
