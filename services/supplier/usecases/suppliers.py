"""Supplier use cases: register and edit a supplier (one transaction each; only these commit), and the
checks other use cases make against suppliers and the CI read model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier import events
from services.supplier.domain.records import Edit
from services.supplier.domain.suppliers import (
    Contact,
    RiskRating,
    Supplier,
    SupplierCategory,
    SupplierStatus,
    check_lead,
)
from services.supplier.store.suppliers import SupplierRepository
from services.supplier.store.tables import ci_read_model
from shared import clock
from shared.errors import Conflict, RuleViolation, found
from shared.numbering import format_number
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class RegisterSupplier:
    name: str
    category: SupplierCategory
    status: SupplierStatus = SupplierStatus.ACTIVE
    risk_rating: RiskRating = RiskRating.MEDIUM
    supplier_manager: str | None = None
    contact_email: str | None = None
    contacts: tuple[Contact, ...] = ()
    service_ids: tuple[UUID, ...] = ()
    ci_ids: tuple[UUID, ...] = ()
    lead_supplier_id: UUID | None = None
    actor: str = "system"


async def register_supplier(cmd: RegisterSupplier, uow: UnitOfWork) -> Supplier:
    async with uow:
        conn = uow.connection
        suppliers = SupplierRepository(conn)
        existing = await suppliers.get_by_name(cmd.name)
        if existing is not None:
            raise Conflict(
                f"supplier {existing.number} is already named {existing.name!r}", supplier_id=str(existing.id)
            )
        if cmd.lead_supplier_id is not None:
            await require_supplier(conn, cmd.lead_supplier_id, field="lead_supplier_id")
        await check_cis(conn, cmd.ci_ids, field="ci_ids")
        await check_cis(conn, cmd.service_ids, field="service_ids")
        supplier = Supplier.register(
            supplier_id=uuid4(),
            number=format_number("SUP", await suppliers.next_number()),
            name=cmd.name,
            category=cmd.category,
            status=cmd.status,
            risk_rating=cmd.risk_rating,
            supplier_manager=cmd.supplier_manager,
            contact_email=cmd.contact_email,
            contacts=cmd.contacts,
            service_ids=cmd.service_ids,
            ci_ids=cmd.ci_ids,
            lead_supplier_id=cmd.lead_supplier_id,
            actor=cmd.actor,
            now=clock.now(),
        )
        await suppliers.add(supplier)
        uow.emit_pending(supplier, events.to_contract)
        await uow.commit()
    return supplier


async def update_supplier(supplier_id: UUID, values: Mapping[str, Any], edit: Edit, uow: UnitOfWork) -> Supplier:
    async with uow:
        conn = uow.connection
        suppliers = SupplierRepository(conn)
        supplier = found(await suppliers.get(supplier_id, for_update=True), f"supplier {supplier_id}")
        edit.check(supplier.number, supplier.version)
        if "name" in values:
            same = await suppliers.get_by_name(values["name"])
            if same is not None and same.id != supplier.id:
                raise Conflict(f"supplier {same.number} is already named {same.name!r}", supplier_id=str(same.id))
        lead = values.get("lead_supplier_id")
        if lead is not None and lead != supplier.lead_supplier_id:
            await require_supplier(conn, lead, field="lead_supplier_id")
            check_lead(supplier.id, await suppliers.lead_chain(lead))
        if "ci_ids" in values:
            await check_cis(conn, set(values["ci_ids"]) - set(supplier.ci_ids), field="ci_ids")
        if "service_ids" in values:
            await check_cis(conn, set(values["service_ids"]) - set(supplier.service_ids), field="service_ids")
        if supplier.update(values, actor=edit.actor, now=clock.now()):
            await suppliers.save(supplier)
            uow.emit_pending(supplier, events.to_contract)
            await uow.commit()
    return supplier


# ---------------------------------------------------------------------------- checks other use cases share


async def require_supplier(conn: AsyncConnection, supplier_id: UUID, *, field: str | None = None) -> Supplier:
    """The supplier, or a 404 (addressed in the path) / 422 naming `field` (given in a body)."""
    supplier = await SupplierRepository(conn).get(supplier_id)
    if supplier is None and field is not None:
        raise RuleViolation(f"there is no supplier {supplier_id}", field=field)
    return found(supplier, f"supplier {supplier_id}")


async def check_cis(conn: AsyncConnection, ids: Iterable[UUID], *, field: str) -> None:
    """Every CI (services are CIs too) must be known from config's events and not retired."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return
    known = await ci_read_model.get_many(conn, wanted)
    unknown = [str(i) for i in wanted if i not in known]
    retired = [f"{known[i].number} ({i})" for i in wanted if i in known and known[i].retired]
    errors: list[tuple[str, str]] = []
    if unknown:
        errors.append((field, f"unknown configuration item(s): {', '.join(unknown)}"))
    if retired:
        errors.append((field, f"retired configuration item(s): {', '.join(retired)}"))
    if errors:
        raise RuleViolation.of_fields(errors)
