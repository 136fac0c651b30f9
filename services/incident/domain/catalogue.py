"""The request catalogue as pure domain code (ISO/IEC 20000-1 8.1): what can be requested, from
which service, who approves it and which group fulfils it (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from shared.errors import RuleViolation


@dataclass(frozen=True)
class CatalogueItem:
    """What can be requested: from which service, whether someone must approve it (holding which
    role), and which group fulfils it."""

    id: UUID
    name: str
    description: str
    service_id: UUID | None
    needs_approval: bool
    approver_role: str | None
    fulfilment_group: str
    default_priority: int = 4
    active: bool = True
    version: int = 1

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not self.name.strip():
            errors.append(("name", "a catalogue item needs a name"))
        if self.needs_approval and not (self.approver_role or "").strip():
            errors.append(("approver_role", "an item that needs approval names the role that approves it"))
        if not self.fulfilment_group.strip():
            errors.append(("fulfilment_group", "an item names the group that fulfils it"))
        if not 1 <= self.default_priority <= 5:
            errors.append(("default_priority", "priorities are 1 (critical) to 5 (planning)"))
        if errors:
            raise RuleViolation.of_fields(errors)
