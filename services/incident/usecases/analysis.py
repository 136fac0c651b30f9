"""Problem analysis fed by events (ISO/IEC 20000-1 8.2, flow 2 of the product).

The incident service consumes its own `incident.created.v1` from RabbitMQ like any other
consumer (worker.HANDLERS), and the change service's implementing/implemented/failed events.
These functions run inside the consumer's unit of work (it records the inbox row and commits),
so a redelivered event changes nothing.

For each new incident, in this order:
1. its facts (CI, service, category, opened) are kept in `incident_fact`;
2. a change implemented or failed on its CI within `change_cause_window_hours` before it is
   linked as the probable cause (and, the other way round, a change event arriving after the
   incident links the incidents already opened in its window);
3. an active known error on its CI, or on its service and category, attaches its workaround to
   the incident and links the incident to the known error's problem;
4. otherwise it counts toward recurrence: with an open problem on its CI (or service and
   category) it is added to it; else, once `problem_recurrence_threshold` incidents of the
   cluster that no problem explains fall in `problem_recurrence_window_days`, a problem is
   opened (origin recurrence) with all of them linked.
Two consumers handling two incidents of one cluster at once are serialised by an advisory lock
per cluster (PostgreSQL), with a unique index on the open problem's cluster as backstop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident import events
from services.incident.domain.analysis import (
    Cluster,
    IncidentFact,
    RecurrencePolicy,
    clusters_of,
    recurrence_title,
)
from services.incident.domain.problems import Problem, ProblemOrigin
from services.incident.store.analysis import (
    add_change_link,
    ci_names,
    facts_on_ci_between,
    has_change_link,
    latest_change_before,
    lock_key,
    record_change_on_ci,
    record_incident_fact,
    unexplained_facts,
)
from services.incident.store.incident_links import link_incident_fields
from services.incident.store.known_changes import learn_change
from services.incident.store.known_errors import count_known_error_use, matching_known_error
from services.incident.store.problems import ProblemRepository
from shared import clock
from shared.events import incident as contracts
from shared.events.change import (
    ChangeApproved,
    ChangeCreated,
    ChangeFailed,
    ChangeImplemented,
    ChangeImplementing,
    ChangeStatusEvent,
)
from shared.uow import UnitOfWork

ANALYST = "system:problem-analysis"


@dataclass(frozen=True)
class AnalysisPolicy:
    recurrence: RecurrencePolicy
    change_window: timedelta

    @classmethod
    def of(cls, settings: Any) -> AnalysisPolicy:
        """From the service settings the unit of work carries (defaults without them)."""
        return cls(
            recurrence=RecurrencePolicy(
                threshold=int(getattr(settings, "problem_recurrence_threshold", 3)),
                window=timedelta(days=float(getattr(settings, "problem_recurrence_window_days", 7.0))),
            ),
            change_window=timedelta(hours=float(getattr(settings, "change_cause_window_hours", 24.0))),
        )


async def on_incident_created(data: contracts.IncidentCreated, uow: UnitOfWork) -> None:
    policy = AnalysisPolicy.of(uow.settings)
    conn = uow.connection
    fact = IncidentFact(
        incident_id=data.incident_id,
        number=data.number,
        opened_at=data.opened_at,
        ci_id=data.ci_id,
        service_id=data.service_id,
        category=data.category,
    )
    clusters = clusters_of(fact)
    for key in sorted(c.key for c in clusters):  # one order everywhere: no deadlock between consumers
        await lock_key(conn, key)
    await record_incident_fact(conn, fact)
    if fact.ci_id is not None:
        await _link_probable_cause(uow, fact, policy.change_window)
    if await _offer_known_error(uow, fact):
        return
    for cluster in clusters:
        if await _count_recurrence(uow, fact, cluster, policy.recurrence):
            return


# ---------------------------------------------------------------------------- change-caused incidents


async def _link_probable_cause(uow: UnitOfWork, fact: IncidentFact, window: timedelta) -> None:
    assert fact.ci_id is not None
    change = await latest_change_before(uow.connection, fact.ci_id, fact.opened_at, fact.opened_at - window)
    if change is not None:
        await _link_change(uow, fact, change.change_id, change.change_number, change.implemented_at)


async def _link_change(
    uow: UnitOfWork, fact: IncidentFact, change_id: UUID, change_number: str, implemented_at: datetime | None
) -> None:
    conn = uow.connection
    now = clock.now()
    first = not await has_change_link(conn, fact.incident_id)
    added = await add_change_link(
        conn,
        {
            "incident_id": fact.incident_id,
            "change_id": change_id,
            "change_number": change_number,
            "ci_id": fact.ci_id,
            "reason": "probable_cause",
            "change_implemented_at": implemented_at,
            "linked_at": now,
        },
    )
    if not added:
        return
    if first:  # the record names one probable cause: the first change linked
        await link_incident_fields(
            conn,
            fact.incident_id,
            {"caused_by_change_id": change_id, "caused_by_change_number": change_number},
            actor=ANALYST,
            action="link_change",
            now=now,
        )
    uow.emit(
        contracts.IncidentLinkedToChange(
            incident_id=fact.incident_id,
            incident_number=fact.number,
            change_id=change_id,
            change_number=change_number,
            ci_id=fact.ci_id,
            service_id=fact.service_id,
            reason="probable_cause",
            change_implemented_at=implemented_at,
            occurred_at=now,
        ),
        subject=str(fact.incident_id),
    )


def _change_ci_ids(data: ChangeImplemented | ChangeFailed | ChangeImplementing) -> list[UUID]:
    ids = list(data.affected_ci_ids)
    if isinstance(data, ChangeImplemented):
        ids.extend(c.ci_id for c in data.planned_ci_changes if c.ci_id is not None)
        ids.extend(
            ci
            for c in data.planned_ci_changes
            if c.relationship is not None
            for ci in (c.relationship.source_id, c.relationship.target_id)
        )
    return list(dict.fromkeys(ids))


async def on_change_learnt(
    data: ChangeCreated | ChangeApproved | ChangeImplemented | ChangeStatusEvent, uow: UnitOfWork
) -> None:
    """Remember the change: a problem or an incident is linked only to a change learnt here."""
    await learn_change(uow.connection, change_id=data.change_id, change_number=data.number, now=clock.now())


async def on_change_implementing(data: ChangeImplementing, uow: UnitOfWork) -> None:
    await on_change_learnt(data, uow)
    await record_change_on_ci(
        uow.connection,
        change_id=data.change_id,
        change_number=data.number,
        ci_ids=_change_ci_ids(data),
        status="implementing",
        planned_start=data.planned_start,
        planned_end=data.planned_end,
        implemented_at=None,
        now=clock.now(),
    )


async def on_change_done(data: ChangeImplemented | ChangeFailed, uow: UnitOfWork) -> None:
    """Close the change's implementation window on its CIs, and link the incidents opened on them
    within the window after it (when the incident's event came first)."""
    await on_change_learnt(data, uow)
    policy = AnalysisPolicy.of(uow.settings)
    conn = uow.connection
    failed = isinstance(data, ChangeFailed)
    done_at = data.occurred_at if isinstance(data, ChangeFailed) else data.implemented_at
    ci_ids = _change_ci_ids(data)
    for ci_id in sorted(ci_ids):
        await lock_key(conn, f"ci:{ci_id}")
    await record_change_on_ci(
        conn,
        change_id=data.change_id,
        change_number=data.number,
        ci_ids=ci_ids,
        status="failed" if failed else "implemented",
        planned_start=getattr(data, "planned_start", None),
        planned_end=getattr(data, "planned_end", None),
        implemented_at=done_at,
        now=clock.now(),
    )
    if not ci_ids:
        return
    for fact in await facts_on_ci_between(conn, ci_ids, done_at, done_at + policy.change_window):
        await _link_change(uow, fact, data.change_id, data.number, done_at)


# ---------------------------------------------------------------------------- known errors


async def _offer_known_error(uow: UnitOfWork, fact: IncidentFact) -> bool:
    conn = uow.connection
    match = await matching_known_error(conn, ci_id=fact.ci_id, service_id=fact.service_id, category=fact.category)
    if match is None:
        return False
    repo = ProblemRepository(conn)
    problem = await repo.get(match.problem_id, for_update=True)
    if problem is None:  # a known error always has its problem; be safe with old data
        return False
    now = clock.now()
    await _add_to_problem(uow, repo, problem, [fact], "known_error", now, workaround=match.workaround)
    await count_known_error_use(conn, match.id)
    await link_incident_fields(
        conn,
        fact.incident_id,
        {"known_error_id": match.id, "workaround": match.workaround},
        actor=ANALYST,
        action="attach_workaround",
        now=now,
    )
    return True


# ---------------------------------------------------------------------------- recurrence


async def _count_recurrence(uow: UnitOfWork, fact: IncidentFact, cluster: Cluster, policy: RecurrencePolicy) -> bool:
    """Add the incident to the cluster's open problem, or open one once the cluster recurs."""
    conn = uow.connection
    repo = ProblemRepository(conn)
    now = clock.now()
    problem = await repo.open_for(cluster)
    if problem is not None:
        if fact.incident_id not in problem.incident_ids:
            await _add_to_problem(uow, repo, problem, [fact], "recurrence", now)
        return True
    facts = await unexplained_facts(conn, cluster, fact.opened_at - policy.window)
    if not policy.recurring(len(facts)):
        return False
    names = await ci_names(conn, (cluster.ci_id, cluster.service_id))
    problem = Problem.open(
        problem_id=uuid4(),
        number="",
        title=recurrence_title(cluster, len(facts), policy.window, names),
        description="Opened by problem analysis: "
        + ", ".join(f.number for f in facts)
        + f" were opened on {cluster.describe(names)} within {policy.window}.",
        origin=ProblemOrigin.RECURRENCE,
        actor=ANALYST,
        now=now,
        ci_id=cluster.ci_id,
        service_id=cluster.service_id or fact.service_id,
        category=cluster.category or fact.category,
        incident_ids=[f.incident_id for f in facts],
        recurrence_key=cluster.key,
    )
    await repo.add(problem)
    await repo.add_links(link_rows(problem, _pairs(facts), "recurrence", ANALYST, now))
    uow.emit_pending(problem, events.problem_contract)
    await _mark_incidents(uow, problem, facts, "recurrence", now, workaround=None)
    return True


async def _add_to_problem(
    uow: UnitOfWork,
    repo: ProblemRepository,
    problem: Problem,
    facts: list[IncidentFact],
    reason: str,
    now: datetime,
    *,
    workaround: str | None = None,
) -> None:
    read_version = problem.version
    added = set(problem.link_incidents([f.incident_id for f in facts], ANALYST, now, reason))
    new = [f for f in facts if f.incident_id in added]
    if not new:
        return
    await repo.save(problem, read_version, link_rows(problem, _pairs(new), reason, ANALYST, now))
    uow.emit_pending(problem, events.problem_contract)
    await _mark_incidents(uow, problem, new, reason, now, workaround=workaround)


LinkReason = Literal["recurrence", "known_error", "manual", "outage"]
"""Why an incident was linked to a problem, as `incident.linked_to_problem.v1` says it."""


def link_rows(
    problem: Problem, incidents: Sequence[tuple[UUID, str]], reason: str, actor: str, now: datetime
) -> list[dict[str, Any]]:
    """The link rows of incidents (id, number) a job linked to `problem`."""
    return [
        {
            "problem_id": problem.id,
            "incident_id": incident_id,
            "incident_number": number,
            "reason": reason,
            "linked_at": now,
            "actor": actor,
        }
        for incident_id, number in incidents
    ]


async def mark_linked(
    uow: UnitOfWork,
    problem: Problem,
    incidents: Sequence[tuple[UUID, str]],
    *,
    reason: LinkReason,
    actor: str,
    now: datetime,
    workaround: str | None = None,
) -> None:
    """Each incident (id, number) now names `problem` (with its history), and says so in
    `incident.linked_to_problem.v1` with `reason`."""
    conn: AsyncConnection = uow.connection
    for incident_id, number in incidents:
        await link_incident_fields(
            conn,
            incident_id,
            {"problem_id": problem.id, "problem_number": problem.number},
            actor=actor,
            action="link_problem",
            now=now,
        )
        uow.emit(
            events.linked_to_problem(
                incident_id=incident_id,
                incident_number=number,
                problem=problem,
                reason=reason,
                workaround=workaround,
                now=now,
            ),
            subject=str(incident_id),
        )


def _pairs(facts: list[IncidentFact]) -> list[tuple[UUID, str]]:
    return [(f.incident_id, f.number) for f in facts]


async def _mark_incidents(
    uow: UnitOfWork, problem: Problem, facts: list[IncidentFact], reason: str, now: datetime, *, workaround: str | None
) -> None:
    event_reason: LinkReason = "known_error" if reason == "known_error" else "recurrence"
    await mark_linked(uow, problem, _pairs(facts), reason=event_reason, actor=ANALYST, now=now, workaround=workaround)
