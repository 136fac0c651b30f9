"""Governance of suppliers: the processes they operate (4.2) and performance reviews (7.2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from services.supplier.domain.records import Changes, diff, jsonable
from shared.errors import RuleViolation


class Process(StrEnum):
    """The service management processes (ISO/IEC 20000-1 clauses 5 to 9) a party may operate."""

    INCIDENT = "incident"
    SERVICE_REQUEST = "service_request"
    PROBLEM = "problem"
    CHANGE = "change"
    RELEASE_DEPLOYMENT = "release_deployment"
    CONFIGURATION = "configuration"
    SERVICE_LEVEL = "service_level"
    SERVICE_REPORTING = "service_reporting"
    CONTINUITY_AVAILABILITY = "continuity_availability"
    CAPACITY = "capacity"
    INFORMATION_SECURITY = "information_security"
    OTHER = "other"


PROCESS_FIELDS: Final = ("process", "scope", "contract_id", "measurement", "kpis", "process_owner")


@dataclass
class OperatedProcess:
    """One entry of the register: a process, or part of one, that a supplier operates for us."""

    id: UUID
    supplier_id: UUID
    process: Process
    scope: str
    contract_id: UUID | None
    measurement: str
    kpis: tuple[str, ...]
    process_owner: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def snapshot(self) -> dict[str, Any]:
        return {name: jsonable(getattr(self, name)) for name in PROCESS_FIELDS}

    def update(self, values: Mapping[str, Any], now: datetime) -> Changes:
        unknown = sorted(set(values) - set(PROCESS_FIELDS))
        if unknown:
            raise RuleViolation.of_fields([(name, "not a field that can be changed") for name in unknown])
        candidate = replace(self)
        for name, value in values.items():
            setattr(candidate, name, tuple(value) if name == "kpis" else value)
        changes = diff(self.snapshot(), candidate.snapshot())
        if changes:
            for name in PROCESS_FIELDS:
                setattr(self, name, getattr(candidate, name))
            self.version += 1
            self.updated_at = now
        return changes


@dataclass(frozen=True)
class ReviewAction:
    description: str
    owner: str
    due_on: date


@dataclass(frozen=True)
class Review:
    """A performance review held with a supplier: who was there, the figures as they stood, what
    was found and what is to be done. Contract changes it led to are amendments naming it."""

    id: UUID
    number: str
    supplier_id: UUID
    contract_id: UUID | None
    held_on: date
    period: str
    participants: tuple[str, ...]
    figures: Mapping[str, Any]
    findings: str
    actions: tuple[ReviewAction, ...]
    recorded_by: str
    created_at: datetime
