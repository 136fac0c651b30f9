"""What the use cases share: who edits on which version, and the checks against other records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier.domain import Supplier
from services.supplier.store import SupplierRepository, ci_read_model
from shared.errors import NotFound, PreconditionFailed, RuleViolation


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Edit:
    """Who changes a record, and the version they read (If-Match; None where it is optional)."""

    actor: str
    expected_version: int | None = None

    def check(self, number: str, version: int) -> None:
        if self.expected_version is not None and self.expected_version != version:
            raise PreconditionFailed(
                f"{number} is at version {version}, not {self.expected_version}; read it again",
                current_version=version,
            )


async def require_supplier(conn: AsyncConnection, supplier_id: UUID, *, field: str | None = None) -> Supplier:
    """The supplier, or a 404 (addressed in the path) / 422 naming `field` (given in a body)."""
    found = await SupplierRepository(conn).get(supplier_id)
    if found is None:
        if field is not None:
            raise RuleViolation(f"there is no supplier {supplier_id}", field=field)
        raise NotFound(f"supplier {supplier_id} does not exist")
    return found


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
