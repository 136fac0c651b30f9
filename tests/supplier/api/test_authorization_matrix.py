"""The authorisation matrix walked against the running supplier service: every operation, with a token
of every role, on a real supplier, contract, dispute and access grant. The expectation is written
here, apart from the service's table, so that flipping a row of the table fails the walk. No
supplier record is anyone's own: every cell is allowed or denied, whoever made the record."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.supplier.api import ROUTERS
from services.supplier.api.deps import POLICY
from services.supplier.app import create_app
from services.supplier.settings import SupplierSettings
from shared.auth import Role
from tests.authorization import NOT_REQUESTER, RECORDS_CONTROL, Expect, Matrix, expect
from tests.authorization_allowed import ownerless_matrix
from tests.conftest import running
from tests.supplier.api.helpers import Auth, new_contract, new_supplier

pytestmark = pytest.mark.asyncio(loop_scope="session")

# ----------------------------------------------------------------------------- what the issue asks

SM, AUDITOR = Role.SUPPLIER_MANAGER, Role.AUDITOR
WRITE = expect([SM])
STAFF = expect(NOT_REQUESTER)  # the supplier register: staff, not requesters, not machine tokens
COMMERCIAL = expect([SM, AUDITOR])  # contracts, disputes, reviews, scorecards
EXPECTED: dict[str, Expect] = {
    "suppliers.create_supplier": WRITE,
    "suppliers.get_supplier": STAFF,
    "suppliers.update_supplier": WRITE,
    "suppliers.list_suppliers": STAFF,
    "suppliers.supplier_history": STAFF,
    "governance.register_process": WRITE,
    "governance.list_processes": STAFF,
    "governance.get_process": STAFF,
    "governance.update_process": WRITE,
    "governance.remove_process": WRITE,
    "governance.record_review": WRITE,
    "governance.list_reviews": COMMERCIAL,
    "governance.get_review": COMMERCIAL,
    "performance.scorecard": COMMERCIAL,
    "contracts.create_contract": WRITE,
    "contracts.read_contract": COMMERCIAL,
    "contracts.list_all_contracts": COMMERCIAL,
    "contracts.edit_contract": WRITE,
    "contracts.activate": WRITE,
    "contracts.cancel": WRITE,
    "contracts.amend": WRITE,
    "contracts.renew": WRITE,
    "contracts.terminate": WRITE,
    "contracts.list_amendments": COMMERCIAL,
    "contracts.contract_history": COMMERCIAL,
    "disputes.open_dispute": WRITE,
    "disputes.get_dispute": COMMERCIAL,
    "disputes.list_all_disputes": COMMERCIAL,
    "disputes.act": WRITE,
    "disputes.dispute_history": COMMERCIAL,
    # The external-party access register (6.6.2): kept by the supplier manager, read by the auditor.
    "access.request_access": WRITE,
    "access.list_supplier_grants": COMMERCIAL,
    "access.list_all_grants": COMMERCIAL,
    "access.get_grant": COMMERCIAL,
    "access.grant": WRITE,
    "access.review": WRITE,
    "access.revoke": WRITE,
    "access.grant_history": COMMERCIAL,
    # Records control: the same rows in every service that mounts it.
    **RECORDS_CONTROL,
}

# ----------------------------------------------------------------------------- the walk


@pytest.fixture(scope="module")
async def supplier_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("supplier"))


@pytest.fixture
async def client(supplier_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(SupplierSettings, supplier_db, run_worker=False))) as client:
        yield client


async def matrix(client: httpx.AsyncClient, auth: Auth) -> Matrix:
    supplier = await new_supplier(client, auth)
    contract = await new_contract(client, auth, supplier["id"])
    body = {"supplier_id": supplier["id"], "title": "Overcharged", "owner": "olga"}
    dispute = await client.post("/api/v1/disputes", json=body, headers=auth(SM))
    assert dispute.status_code == 201, dispute.text
    grant = await client.post(
        f"/api/v1/suppliers/{supplier['id']}/access-grants",
        json={
            "contract_id": contract["id"],
            "system": "payroll database",
            "access_type": "read",
            "classification": "internal",
            "purpose": "month-end reconciliation",
            "holders": ["anna@vendor.example"],
            "owner": "olga",
            "expires_on": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        },
        headers=auth(SM),
    )
    assert grant.status_code == 201, grant.text
    ids = {
        "supplier_id": supplier["id"],
        "contract_id": contract["id"],
        "dispute_id": dispute.json()["id"],
        "grant_id": grant.json()["id"],
    }
    return ownerless_matrix(client, auth, EXPECTED, ROUTERS, POLICY, ids)


async def test_every_row_of_the_table_has_its_expectation() -> None:
    assert sorted(POLICY.table) == sorted(EXPECTED)


async def test_the_matrix_holds_for_every_operation_and_role(client: httpx.AsyncClient, auth: Auth) -> None:
    assert await (await matrix(client, auth)).walk() == []


async def test_flipping_any_row_of_the_table_fails_the_walk(
    client: httpx.AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    walk = await matrix(client, auth)
    assert await walk.unnoticed_flips(POLICY, monkeypatch) == []
    assert await walk.walk() == [], "every row restored"
