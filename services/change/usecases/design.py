"""Design and transition use cases (clause 5): the design record and the go-live acceptance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.change.domain.changes import Change
from services.change.domain.design import ServiceLevelTarget, design_record
from services.change.usecases.changes import Act, act_on_change
from shared.uow import AnyUnitOfWork


@dataclass(frozen=True)
class DesignInput:
    requirements: str
    acceptance_criteria: tuple[str, ...]
    service_level_targets: tuple[ServiceLevelTarget, ...]
    capacity: str


async def record_design(cmd: Act, body: DesignInput, uow: AnyUnitOfWork) -> Change:
    def apply(item: Change, now: datetime) -> None:
        go_live = item.design.go_live if item.design else None
        record = design_record(
            requirements=body.requirements,
            acceptance_criteria=body.acceptance_criteria,
            service_level_targets=body.service_level_targets,
            capacity=body.capacity,
            by=cmd.actor,
            now=now,
            go_live=go_live,
        )
        item.record_design(record, now)

    return await act_on_change(cmd, uow, apply)


async def accept_go_live(cmd: Act, *, accepted: bool, comment: str, uow: AnyUnitOfWork) -> Change:
    return await act_on_change(
        cmd, uow, lambda c, now: c.accept_go_live(accepted=accepted, comment=comment, actor=cmd.actor, now=now)
    )
