"""`itsm repair` for problems: text fields a problem requires that hold NULL, set to empty text,
each recorded in the problem's field history and announced as `problem.updated.v1`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.incident import events
from services.incident.domain.problems import ProblemAction, ProblemChanged
from services.incident.store.problems import ProblemRepository
from services.incident.store.tables import problem
from shared import clock
from shared.errors import found
from shared.repair import REPAIR_ACTOR, REQUIRED_TEXT, RepairTarget
from shared.uow import AnyUnitOfWork


async def repair_problem(uow: AnyUnitOfWork, problem_id: UUID, values: dict[str, Any], why: dict[str, str]) -> None:
    """Write the values whatever the problem's status: a repair makes the record readable again, it
    is no action of the lifecycle (a closed problem or a known error takes it too)."""
    async with uow:
        repository = ProblemRepository(uow.connection)
        record = found(await repository.get(problem_id, for_update=True), f"problem {problem_id}")
        read_version = record.version
        changes = {name: (getattr(record, name), value) for name, value in values.items()}
        for name, value in values.items():
            setattr(record, name, value)
        record.version += 1
        record.updated_at = clock.now()
        reason = "itsm repair: " + "; ".join(f"{name}: {text}" for name, text in why.items())
        record.pending_events.append(
            ProblemChanged(record.id, ProblemAction.UPDATE, REPAIR_ACTOR, record.status, record.status, changes, reason)
        )
        await repository.save(record, read_version)
        uow.emit_pending(record, events.problem_contract)
        await uow.commit()


TARGETS = (
    RepairTarget(
        problem,
        "number",
        {"description": REQUIRED_TEXT, "root_cause": REQUIRED_TEXT, "workaround": REQUIRED_TEXT},
        repair_problem,
    ),
)
