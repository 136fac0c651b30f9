"""What the supplier routes share: the service's authorisation table (who may call each route), and
the records they address, loaded or 404."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends

from services.supplier.domain.access import AccessGrant
from services.supplier.domain.contracts import Contract
from services.supplier.domain.disputes import Dispute
from services.supplier.domain.suppliers import Supplier
from services.supplier.store.access import AccessGrantRepository
from services.supplier.store.contracts import get_contract
from services.supplier.store.disputes import DisputeRepository
from services.supplier.store.suppliers import get_supplier
from shared import records_control
from shared.app import ReadConnectionDep
from shared.auth import READ_ROLES, Principal, Role
from shared.authorization import Access, Policy, Rule, row
from shared.errors import found

# ---------------------------------------------------------------------------- the authorisation table

_STAFF = READ_ROLES - {Role.REQUESTER}
_MANAGER, _AUDITOR = Role.SUPPLIER_MANAGER, Role.AUDITOR

_WRITE = row(allow=[_MANAGER])
"""Every write is the supplier manager's (admin is allowed everything)."""
_REGISTER = row(allow=_STAFF)
"""Who the suppliers are and what they operate: staff work with them (an agent assigns an incident
to a supplier's group and calls its contacts, the configuration manager links CIs to it). A
requester and the machine tokens have no business with suppliers."""
_COMMERCIAL = row(allow=[_MANAGER, _AUDITOR])
"""Contracts, disputes, scorecards and reviews hold commercial terms and negotiations: only the
supplier manager and the auditor read them (no other service reads them over the API; supplier
performance reaches reporting as events)."""
_ACCESS = row(allow=[_MANAGER, _AUDITOR])
"""The external-party access register (6.6.2) says who at a supplier reaches which of our systems
and data: the supplier manager keeps it and the auditor reads it; nobody else needs that map."""

TABLE: dict[str, dict[str, Rule]] = {
    "suppliers.create_supplier": _WRITE,
    "suppliers.get_supplier": _REGISTER,
    "suppliers.update_supplier": _WRITE,
    "suppliers.list_suppliers": _REGISTER,
    "suppliers.supplier_history": _REGISTER,
    "governance.register_process": _WRITE,
    "governance.list_processes": _REGISTER,
    "governance.get_process": _REGISTER,
    "governance.update_process": _WRITE,
    "governance.remove_process": _WRITE,
    "governance.record_review": _WRITE,
    "governance.list_reviews": _COMMERCIAL,
    "governance.get_review": _COMMERCIAL,
    "performance.scorecard": _COMMERCIAL,
    "contracts.create_contract": _WRITE,
    "contracts.read_contract": _COMMERCIAL,
    "contracts.list_all_contracts": _COMMERCIAL,
    "contracts.edit_contract": _WRITE,
    "contracts.activate": _WRITE,
    "contracts.cancel": _WRITE,
    "contracts.amend": _WRITE,
    "contracts.renew": _WRITE,
    "contracts.terminate": _WRITE,
    "contracts.list_amendments": _COMMERCIAL,
    "contracts.contract_history": _COMMERCIAL,
    "disputes.open_dispute": _WRITE,
    "disputes.get_dispute": _COMMERCIAL,
    "disputes.list_all_disputes": _COMMERCIAL,
    "disputes.act": _WRITE,
    "disputes.dispute_history": _COMMERCIAL,
    "access.request_access": _WRITE,
    "access.list_supplier_grants": _ACCESS,
    "access.list_all_grants": _ACCESS,
    "access.get_grant": _ACCESS,
    "access.grant": _WRITE,
    "access.review": _WRITE,
    "access.revoke": _WRITE,
    "access.grant_history": _ACCESS,
    # Records control (4.3.3): admin sets retention policies and legal holds; the auditor reads them
    # and the disposal log.
    **records_control.AUTHORISATION,
}

POLICY = Policy("supplier", TABLE, [])
"""No supplier record is a requester's or an agent's own: every cell is allow or deny."""
Authorised = Annotated[Access, Depends(POLICY.enforce)]
Caller = Annotated[Principal, Depends(POLICY.caller)]
"""Who the table let through (routers install `POLICY.enforce` first)."""


async def current_supplier(supplier_id: UUID, conn: ReadConnectionDep) -> Supplier:
    return found(await get_supplier(conn, supplier_id), f"supplier {supplier_id}")


async def current_contract(contract_id: UUID, conn: ReadConnectionDep) -> Contract:
    return found(await get_contract(conn, contract_id), f"contract {contract_id}")


async def current_dispute(dispute_id: UUID, conn: ReadConnectionDep) -> Dispute:
    return found(await DisputeRepository(conn).get(dispute_id), f"dispute {dispute_id}")


async def current_access_grant(grant_id: UUID, conn: ReadConnectionDep) -> AccessGrant:
    return found(await AccessGrantRepository(conn).get(grant_id), f"access grant {grant_id}")


CurrentSupplier = Annotated[Supplier, Depends(current_supplier)]
CurrentContract = Annotated[Contract, Depends(current_contract)]
CurrentDispute = Annotated[Dispute, Depends(current_dispute)]
CurrentAccessGrant = Annotated[AccessGrant, Depends(current_access_grant)]
