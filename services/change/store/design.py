"""The clause 5 design and transition record of a change as a row of `change_design`, and back."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.change.domain.design import DesignRecord, GoLiveAcceptance, ServiceLevelTarget


def design_row(change_id: UUID, design: DesignRecord) -> dict[str, Any]:
    go_live = design.go_live
    return {
        "change_id": change_id,
        "requirements": design.requirements,
        "acceptance_criteria": list(design.acceptance_criteria),
        "service_level_targets": [{"metric": t.metric, "target": t.target} for t in design.service_level_targets],
        "capacity": design.capacity,
        "updated_by": design.updated_by,
        "updated_at": design.updated_at,
        "go_live_accepted": go_live.accepted if go_live else None,
        "go_live_by": go_live.by if go_live else None,
        "go_live_at": go_live.at if go_live else None,
        "go_live_comment": go_live.comment if go_live else None,
    }


def design_of(row: Any) -> DesignRecord:
    go_live = None
    if row.go_live_accepted is not None:
        go_live = GoLiveAcceptance(row.go_live_accepted, row.go_live_by, row.go_live_at, row.go_live_comment or "")
    return DesignRecord(
        requirements=row.requirements,
        acceptance_criteria=tuple(row.acceptance_criteria),
        service_level_targets=tuple(ServiceLevelTarget(t["metric"], t["target"]) for t in row.service_level_targets),
        capacity=row.capacity,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        go_live=go_live,
    )
