"""Discovery and reconciliation as pure code: identify observed items, decide what to do with each.

Identification follows one rule set, strongest identifier first: cloud id, serial, FQDN, then
hostname. An observation whose identifiers point at two different CIs is ambiguous and changes
nothing. A matched CI takes the observed values; on a controlled CI a difference is applied only
under an approved change that covers it now, and is otherwise an unauthorised change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from services.config.domain.items import ConfigItem, Identifiers, diff

# Strongest first: a cloud id or a serial names one thing; host names get reused.
IDENTIFICATION_ORDER: Final = ("cloud_id", "serial", "fqdn", "hostname")
MAX_ITEMS: Final = 20_000


@dataclass(frozen=True)
class ObservedItem:
    key: str
    type: str
    name: str
    identifiers: Identifiers
    attributes: dict[str, Any] = field(default_factory=dict)
    product_version: str | None = None

    def identifier_values(self) -> list[tuple[str, str]]:
        return identifier_values(self.identifiers)


def identifier_values(identifiers: Identifiers) -> list[tuple[str, str]]:
    """The (kind, value) pairs a CI is identified by, strongest first, DNS names lower-cased."""
    ids = identifiers.normalised()
    return [(kind, value) for kind in IDENTIFICATION_ORDER if (value := getattr(ids, kind))]


@dataclass(frozen=True)
class ObservedRelationship:
    source_key: str
    type: str
    target_key: str


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    UNAUTHORISED = "unauthorised"
    ERROR = "error"


class Ambiguous(Exception):
    """The identifiers of one observation point at different CIs."""


class IdentifierIndex:
    """Existing CIs by each identifier, built once per run from one query per identifier kind."""

    def __init__(self, items: Iterable[ConfigItem]) -> None:
        self._by: dict[tuple[str, str], UUID] = {}
        self.items: dict[UUID, ConfigItem] = {}
        for item in items:
            self.add(item)

    def add(self, item: ConfigItem) -> None:
        self.items[item.id] = item
        ids = item.identifiers.normalised()
        for kind in IDENTIFICATION_ORDER:
            if value := getattr(ids, kind):
                self._by.setdefault((kind, value), item.id)

    def match(self, observed: ObservedItem) -> ConfigItem | None:
        return self.match_identifiers(observed.identifiers)

    def match_identifiers(self, identifiers: Identifiers) -> ConfigItem | None:
        """The CI these identifiers name (None: no CI); `Ambiguous` when they name several."""
        found = {self._by[key] for key in identifier_values(identifiers) if key in self._by}
        if len(found) > 1:
            numbers = sorted(self.items[i].number for i in found)
            raise Ambiguous(f"its identifiers match several CIs: {', '.join(numbers)}")
        return self.items[found.pop()] if found else None


def observed_values(item: ConfigItem, observed: ObservedItem) -> dict[str, Any]:
    """The fields to set on `item` so that it shows what was observed. Observed attributes are
    merged into the recorded ones: a discovery source reports what it sees, not all we know."""
    values: dict[str, Any] = {}
    merged = {**item.attributes, **observed.attributes}
    if merged != item.attributes:
        values["attributes"] = merged
    if observed.product_version is not None and observed.product_version != item.product_version:
        values["product_version"] = observed.product_version
    known = item.identifiers
    seen = observed.identifiers.normalised()
    filled = Identifiers(
        serial=seen.serial or known.serial,
        hostname=seen.hostname or known.hostname,
        fqdn=seen.fqdn or known.fqdn,
        cloud_id=seen.cloud_id or known.cloud_id,
    )
    if filled != known:
        values["identifiers"] = filled
    return values


def differences(item: ConfigItem, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What `values` would change on `item`, field by field, as the history would record it."""
    before = item.snapshot()
    after = dict(before)
    for name, value in values.items():
        if name == "identifiers":
            after[name] = {k: getattr(value, k) for k in ("serial", "hostname", "fqdn", "cloud_id")}
        else:
            after[name] = value
    return diff(before, after)


@dataclass
class ItemReport:
    key: str
    outcome: Outcome
    ci_id: UUID | None = None
    number: str | None = None
    detail: str | None = None
    changes: dict[str, dict[str, Any]] | None = None


@dataclass
class RunReport:
    source: str
    started_at: datetime
    items: list[ItemReport] = field(default_factory=list)
    relationships_added: int = 0
    relationship_errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {outcome.value: 0 for outcome in Outcome}
        for item in self.items:
            counts[item.outcome.value] += 1
        counts["relationships_added"] = self.relationships_added
        counts["relationship_errors"] = len(self.relationship_errors)
        return counts
