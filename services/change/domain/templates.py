"""Standard change templates as pure code: the pre-approved models (ISO/IEC 20000-1 9.2)
that standard changes, and pipeline deployments with no change named, are made from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final
from uuid import UUID

from services.change.domain.changes import required_text
from shared.errors import RuleViolation

MAX_TEMPLATE_DURATION: Final = timedelta(days=7)


@dataclass
class ChangeTemplate:
    """A pre-approved standard change model (ISO/IEC 20000-1 9.2): the tested procedure, its plans
    and its approval record. A change made from it is a standard change, low risk, approved when it
    is submitted. `pipeline_names` are the names a CI/CD pipeline calls the service by (a GitHub
    repository's full name, a service name): a deployment notification naming one of them, and no
    change, becomes a standard change from this template. `pipeline_default` marks the template used
    for a deployment of a service no template names."""

    id: UUID
    name: str
    description: str
    category: str | None
    service_id: UUID | None
    pipeline_names: tuple[str, ...]
    implementation_plan: str
    backout_plan: str
    test_plan: str
    default_duration: timedelta
    active: bool
    pipeline_default: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    RISK: ClassVar[str] = "low"  # a standard change is low risk by definition: that is what makes it pre-approvable

    @staticmethod
    def _checked(fields: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(fields)
        if "name" in out:
            out["name"] = required_text(out["name"], "name", "a template needs a name")
        if "implementation_plan" in out:
            out["implementation_plan"] = required_text(
                out["implementation_plan"], "implementation_plan", "a pre-approved model states how it is implemented"
            )
        if "backout_plan" in out:
            out["backout_plan"] = required_text(
                out["backout_plan"], "backout_plan", "a pre-approved model states how it is backed out"
            )
        if "default_duration" in out:
            duration: timedelta = out["default_duration"]
            if not timedelta(0) < duration <= MAX_TEMPLATE_DURATION:
                raise RuleViolation("the default duration is more than 0 and at most 7 days", field="default_duration")
        if "pipeline_names" in out:
            out["pipeline_names"] = tuple(sorted({n.strip().lower() for n in out["pipeline_names"] if n.strip()}))
        return out

    @classmethod
    def create(cls, *, template_id: UUID, actor: str, now: datetime, **fields: Any) -> ChangeTemplate:
        return cls(id=template_id, created_by=actor, created_at=now, updated_at=now, version=1, **cls._checked(fields))

    def update(self, now: datetime, **fields: Any) -> None:
        for name, value in self._checked(fields).items():
            setattr(self, name, value)
        self.version += 1
        self.updated_at = now

    def out_of_scope(self, service_ids: Iterable[UUID]) -> list[tuple[str, str]]:
        """Why a standard change touching `service_ids` (its named services and its CIs' services)
        is not within this model, as (field, reason): a retired template pre-approves nothing, and a
        template for a service pre-approves changes to that service only. Empty when it is within."""
        if not self.active:
            return [("template_id", f"the template {self.name!r} is retired: it pre-approves nothing")]
        outside = sorted(s for s in set(service_ids) if s != self.service_id)
        if self.service_id is not None and outside:
            return [
                (
                    "service_ids",
                    f"the template {self.name!r} pre-approves changes to service {self.service_id} only,"
                    f" not to {', '.join(map(str, outside))}: raise a normal change",
                )
            ]
        return []

    def covers(self, *, service_id: UUID | None, service_name: str | None) -> bool:
        if not self.active:
            return False
        if service_id is not None and self.service_id == service_id:
            return True
        return service_name is not None and service_name.strip().lower() in self.pipeline_names


def template_for(
    templates: Iterable[ChangeTemplate], *, service_id: UUID | None, service_name: str | None
) -> ChangeTemplate | None:
    """The active template naming the service (by id or pipeline name), else the active pipeline
    default; the oldest first, so the answer does not change when a newer one is added."""
    ordered = sorted((t for t in templates if t.active), key=lambda t: (t.created_at, t.id))
    named = [t for t in ordered if t.covers(service_id=service_id, service_name=service_name)]
    if named:
        return named[0]
    defaults = [t for t in ordered if t.pipeline_default]
    return defaults[0] if defaults else None


@dataclass(frozen=True)
class TemplateChange:
    """What a requester may add to a standard change made from a template (the rest is the template's)."""

    title: str | None = None
    description: str | None = None
    justification: str = ""
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    affected_ci_ids: tuple[UUID, ...] = ()
    service_ids: tuple[UUID, ...] = ()
    planned_ci_changes: tuple[Mapping[str, Any], ...] = ()
