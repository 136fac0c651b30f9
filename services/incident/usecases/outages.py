"""The `outage-investigation` job (ISO/IEC 20000-1 6.3): every unplanned outage over the threshold
gets an investigation, a problem linked to its incident; when nobody links one within the grace
period after the resolution, this job opens it (origin `outage`), once per outage also with
several replicas:

- each batch of outages is claimed with `FOR UPDATE SKIP LOCKED` on the incident rows, and each
  is checked again in a fresh statement after the claim (a problem linked meanwhile counts);
- the problem's unique open key (`outage:<incident id>`, the column recurrence uses) is written in
  the transaction that links the incident and writes the events to the outbox, so a second
  problem for one outage cannot be committed;
- once linked, the incident is never picked again (the link stays whatever becomes of the problem).

Events: `problem.created.v1` (origin `outage`, the incident in `incident_ids`) and
`incident.linked_to_problem.v1` (reason `outage`), as for any other problem and link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from services.incident import events
from services.incident.domain.outages import (
    Outage,
    OutagePolicy,
    investigation_description,
    investigation_key,
    investigation_title,
    needs_investigation,
)
from services.incident.domain.priority import Impact, Urgency
from services.incident.domain.problems import Problem, ProblemOrigin
from services.incident.store.analysis import ci_names
from services.incident.store.outages import claim_uninvestigated, has_problem
from services.incident.store.problems import ProblemRepository
from services.incident.usecases.analysis import link_rows, mark_linked
from shared.periodic import JobContext
from shared.uow import UnitOfWork

JOB = "outage-investigation"
INVESTIGATOR = "system:outage-investigation"


@dataclass
class PassReport:
    claimed: int = 0
    opened: int = 0


async def investigate(ctx: JobContext) -> None:
    """The `outage-investigation` job: one pass (see `investigate_pass`)."""
    settings = ctx.settings
    await investigate_pass(
        ctx.unit_of_work,
        ctx.now,
        settings.outage_policy,
        owner=settings.outage_investigation_owner,
        batch=settings.outage_investigation_batch,
    )


async def investigate_pass(
    unit_of_work: Callable[[], UnitOfWork],
    now: datetime,
    policy: OutagePolicy,
    *,
    owner: str | None = None,
    batch: int = 100,
) -> PassReport:
    report = PassReport()
    while True:
        async with unit_of_work() as uow:
            claimed = await claim_uninvestigated(uow.connection, now, policy, batch)
            for outage in claimed:
                if needs_investigation(outage, policy, now) and not await has_problem(
                    uow.connection, outage.incident_id
                ):
                    await _open_investigation(uow, outage, policy, owner, now)
                    report.opened += 1
            await uow.commit()
        report.claimed += len(claimed)
        if len(claimed) < batch:
            return report


async def _open_investigation(
    uow: UnitOfWork, outage: Outage, policy: OutagePolicy, owner: str | None, now: datetime
) -> Problem:
    conn = uow.connection
    names = await ci_names(conn, (outage.service_id,))
    service_name = names.get(outage.service_id) if outage.service_id else None
    problem = Problem.open(
        problem_id=uuid4(),
        number="",
        title=investigation_title(outage, service_name),
        description=investigation_description(outage, service_name, policy),
        origin=ProblemOrigin.OUTAGE,
        actor=INVESTIGATOR,
        now=now,
        impact=Impact.HIGH,
        urgency=Urgency.MEDIUM,
        ci_id=outage.ci_id,
        service_id=outage.service_id,
        owner=outage.assignment_group or owner,
        incident_ids=[outage.incident_id],
        recurrence_key=investigation_key(outage.incident_id),
    )
    repo = ProblemRepository(conn)
    await repo.add(problem)
    linked = [(outage.incident_id, outage.number)]
    await repo.add_links(link_rows(problem, linked, "outage", INVESTIGATOR, now))
    uow.emit_pending(problem, events.problem_contract)
    await mark_linked(uow, problem, linked, reason="outage", actor=INVESTIGATOR, now=now)
    return problem
