"""Bulk import of CIs and relationships: all rows or none.

A row with the `number` of an existing CI updates it (a new version only where something
differs); a row without a number is matched by its identifiers under discovery's rules (cloud
id, serial, FQDN, then host name; identifiers naming two CIs refuse the row), so the same file
imported twice creates nothing the second time; a row that matches nothing creates a CI.
Every row is checked under the same rules as the API; when any row fails, nothing is stored and
the error names the row and the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.config.domain.discovery import Ambiguous, IdentifierIndex, identifier_values
from services.config.domain.items import Cause, CIStatus, ConfigItem, Criticality, Identifiers
from services.config.domain.relationships import RelationshipType
from services.config.store.bulk import items_by_numbers
from services.config.store.items import ConfigItemRepository
from services.config.store.relationships import RelationshipRepository
from services.config.usecases.items import Edit, RegisterConfigItem, register_step, update_step
from services.config.usecases.relationships import link_step
from shared.errors import DomainError, RuleViolation
from shared.json_limits import FreeJson
from shared.uow import UnitOfWork

MAX_ROWS = 20_000


class CIRow(BaseModel):
    """One CI as imported (and exported): the API's fields, flat identifiers, an optional number."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str | None = Field(default=None, pattern=r"^CI[0-9]{7}$")
    name: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=2, max_length=50)
    status: CIStatus = CIStatus.PLANNED
    criticality: Criticality = Criticality.MEDIUM
    owner: str | None = None
    description: str = ""
    service_id: UUID | None = None
    supplier_id: UUID | None = None
    location_id: UUID | None = None
    product_version: str | None = None
    controlled: bool = False
    serial: str | None = None
    hostname: str | None = None
    fqdn: str | None = None
    cloud_id: str | None = None
    attributes: FreeJson = Field(default_factory=dict)

    def identifiers(self) -> Identifiers:
        return Identifiers(serial=self.serial, hostname=self.hostname, fqdn=self.fqdn, cloud_id=self.cloud_id)

    def values(self) -> dict[str, Any]:
        """For an update: the fields the row has (a column left out keeps what is recorded)."""
        identifier_columns = {"serial", "hostname", "fqdn", "cloud_id"}
        fields = self.model_dump(exclude_unset=True, exclude={"number", "type", *identifier_columns})
        if self.model_fields_set & identifier_columns:
            fields["identifiers"] = self.identifiers()
        return fields


class RelationshipRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: str = Field(pattern=r"^CI[0-9]{7}$", description="The source CI's number")
    type: RelationshipType
    target: str = Field(pattern=r"^CI[0-9]{7}$", description="The target CI's number")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def _rows_or_422(model: type[BaseModel], raw: Sequence[Mapping[str, Any]]) -> list[Any]:
    if len(raw) > MAX_ROWS:
        raise RuleViolation(f"an import holds at most {MAX_ROWS} rows; split it", field="rows")
    rows: list[Any] = []
    errors: list[tuple[str, str]] = []
    for index, item in enumerate(raw):
        try:
            rows.append(model.model_validate(item))
        except ValidationError as exc:
            errors.extend((f"rows[{index}].{'.'.join(str(p) for p in e['loc'])}", str(e["msg"])) for e in exc.errors())
    if errors:
        raise RuleViolation.of_fields(errors)
    return rows


async def import_cis(
    raw: Sequence[Mapping[str, Any]], uow: UnitOfWork, *, actor: str, change_number: str | None
) -> ImportResult:
    rows: list[CIRow] = _rows_or_422(CIRow, raw)
    cause = Cause("import", actor, change_number)
    edit = Edit(actor=actor, expected_version=None, change_number=change_number)
    created = updated = unchanged = 0
    errors: list[tuple[str, str]] = []
    async with uow:
        existing = await items_by_numbers(uow.connection, [r.number for r in rows if r.number])
        identified = await _identified_by(uow, [r for r in rows if r.number is None])
        for index, row in enumerate(rows):
            try:
                async with uow.connection.begin_nested():
                    match = _match(identified, row) if row.number is None else existing.get(row.number)
                    if match is not None:
                        before = match.version
                        item = await update_step(uow, match.id, row.values(), edit, cause)
                        identified.add(item)  # a later row naming it again compares with this version
                        updated, unchanged = (
                            (updated + 1, unchanged) if item.version > before else (updated, unchanged + 1)
                        )
                    elif row.number is not None:
                        raise RuleViolation(f"there is no CI {row.number} to update; leave number empty to create")
                    else:
                        fields = row.model_dump(exclude={"number", "type", "serial", "hostname", "fqdn", "cloud_id"})
                        cmd = RegisterConfigItem(**fields, ci_type=row.type, identifiers=row.identifiers())
                        identified.add(await register_step(uow, cmd, cause))
                        created += 1
            except DomainError as exc:
                named = [e["field"] for e in exc.extensions.get("errors", [])] or [""]
                errors.extend((f"rows[{index}]" + (f".{f}" if f else ""), exc.detail) for f in named)
        if errors:
            raise RuleViolation.of_fields(errors)
        await uow.commit()
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


async def _identified_by(uow: UnitOfWork, rows: Sequence[CIRow]) -> IdentifierIndex:
    """The CIs the identifiers of these rows name (one query per identifier kind), as discovery finds them."""
    wanted: dict[str, set[str]] = {}
    for row in rows:
        for kind, value in identifier_values(row.identifiers()):
            wanted.setdefault(kind, set()).add(value)
    return IdentifierIndex(await ConfigItemRepository(uow.connection).matching(wanted) if wanted else [])


def _match(identified: IdentifierIndex, row: CIRow) -> ConfigItem | None:
    try:
        return identified.match_identifiers(row.identifiers())
    except Ambiguous as exc:
        raise RuleViolation(str(exc)) from None


async def import_relationships(
    raw: Sequence[Mapping[str, Any]], uow: UnitOfWork, *, actor: str, change_number: str | None
) -> ImportResult:
    rows: list[RelationshipRow] = _rows_or_422(RelationshipRow, raw)
    cause = Cause("import", actor, change_number)
    edit = Edit(actor=actor, expected_version=None, change_number=change_number)
    created = unchanged = 0
    errors: list[tuple[str, str]] = []
    async with uow:
        numbers = await items_by_numbers(uow.connection, {n for r in rows for n in (r.source, r.target)})
        relationships = RelationshipRepository(uow.connection)
        for index, row in enumerate(rows):
            source, target = numbers.get(row.source), numbers.get(row.target)
            if source is None or target is None:
                errors.append((f"rows[{index}]", f"there is no CI {row.source if source is None else row.target}"))
                continue
            if await relationships.find(source.id, row.type, target.id) is not None:
                unchanged += 1
                continue
            try:
                async with uow.connection.begin_nested():
                    await link_step(uow, source.id, row.type, target.id, edit, cause)
                    created += 1
            except DomainError as exc:
                errors.append((f"rows[{index}]", exc.detail))
        if errors:
            raise RuleViolation.of_fields(errors)
        await uow.commit()
    return ImportResult(created=created, updated=0, unchanged=unchanged)
