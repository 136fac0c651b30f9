"""Problem management use cases (ISO/IEC 20000-1 8.2) driven by people through the API: open a
problem, work it through its lifecycle, link incidents and the fixing change, the known error
database. Only these (and the analysis and alert use cases) commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident import events_problem
from services.incident.domain import Impact, Urgency
from services.incident.domain_problem import (
    KnownError,
    KnownErrorStatus,
    Problem,
    ProblemAction,
    ProblemChanged,
    ProblemOrigin,
    require_match_scope,
)
from services.incident.store import incident
from services.incident.store_problem import (
    ProblemRepository,
    add_known_error,
    get_known_error,
    known_error_of_problem,
    link_incident_fields,
    next_known_error_number,
    save_known_error,
)
from shared.errors import NotFound, PreconditionFailed, RuleViolation
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class OpenProblem:
    title: str
    description: str
    actor: str
    impact: Impact = Impact.MEDIUM
    urgency: Urgency = Urgency.MEDIUM
    ci_id: UUID | None = None
    service_id: UUID | None = None
    category: str | None = None
    owner: str | None = None
    incident_ids: list[UUID] = field(default_factory=list)


async def open_problem(cmd: OpenProblem, uow: UnitOfWork) -> Problem:
    async with uow:
        conn = uow.connection
        numbers = await _incident_numbers(conn, cmd.incident_ids)
        now = datetime.now(UTC)
        problem = Problem.open(
            problem_id=uuid4(),
            number="",
            title=cmd.title,
            description=cmd.description,
            origin=ProblemOrigin.MANUAL,
            actor=cmd.actor,
            now=now,
            impact=cmd.impact,
            urgency=cmd.urgency,
            ci_id=cmd.ci_id,
            service_id=cmd.service_id,
            category=cmd.category,
            owner=cmd.owner,
            incident_ids=cmd.incident_ids,
        )
        repo = ProblemRepository(conn)
        await repo.add(problem)
        await repo.add_links(_link_rows(problem, numbers, "manual", cmd.actor, now))
        uow.emit_pending(problem, events_problem.to_contract)
        await _mark_incidents(uow, problem, numbers, "manual", cmd.actor, now)
        await uow.commit()
    return problem


@dataclass(frozen=True)
class ActOnProblem:
    problem_id: UUID
    actor: str
    expected_version: int | None = None


async def act_on_problem(cmd: ActOnProblem, uow: UnitOfWork, apply: Callable[[Problem, datetime], None]) -> Problem:
    """Apply one lifecycle action or edit; the known error record follows its problem."""
    async with uow:
        conn = uow.connection
        repo = ProblemRepository(conn)
        problem = await repo.get(cmd.problem_id, for_update=True)
        if problem is None:
            raise NotFound(f"problem {cmd.problem_id} does not exist")
        if cmd.expected_version is not None and cmd.expected_version != problem.version:
            raise PreconditionFailed(f"{problem.number} is at version {problem.version}, not {cmd.expected_version}")
        read_version = problem.version
        now = datetime.now(UTC)
        apply(problem, now)
        await repo.save(problem, read_version)
        await _follow_known_error(conn, problem, now)
        uow.emit_pending(problem, events_problem.to_contract)
        await uow.commit()
    return problem


def publish_known_error(root_cause: str, workaround: str, actor: str) -> Callable[[Problem, datetime], None]:
    def apply(problem: Problem, now: datetime) -> None:
        problem.publish_known_error(
            root_cause=root_cause,
            workaround=workaround,
            known_error_id=problem.known_error_id or uuid4(),
            actor=actor,
            now=now,
        )

    return apply


async def _follow_known_error(conn: AsyncConnection, problem: Problem, now: datetime) -> None:
    """The problem's known error record: created when it is first published, kept in step with
    the problem's root cause and workaround, retired once the problem is resolved, closed or
    cancelled (active again when a reopened problem publishes it again)."""
    if problem.known_error_id is None:
        return
    current = await known_error_of_problem(conn, problem.id)
    if current is None:
        record = KnownError.of_problem(
            problem, known_error_id=problem.known_error_id, number=await next_known_error_number(conn), now=now
        )
        await add_known_error(conn, record)
        return
    published = any(
        isinstance(e, ProblemChanged) and e.action is ProblemAction.PUBLISH_KNOWN_ERROR for e in problem.pending_events
    )
    if not problem.is_open:
        status = KnownErrorStatus.RETIRED
    else:  # retired by hand stays retired until the problem publishes it again
        status = KnownErrorStatus.ACTIVE if published else current.status
    wanted = {
        "title": problem.title,
        "root_cause": problem.root_cause,
        "workaround": problem.workaround,
        "ci_id": problem.ci_id,
        "service_id": problem.service_id,
        "category": problem.category,
        "status": status,
    }
    if any(getattr(current, k) != v for k, v in wanted.items()):
        for name, value in wanted.items():
            setattr(current, name, value)
        current.updated_at = now
        await save_known_error(conn, current)


@dataclass(frozen=True)
class LinkIncidents:
    problem_id: UUID
    incident_ids: list[UUID]
    actor: str
    expected_version: int | None = None


async def link_incidents(cmd: LinkIncidents, uow: UnitOfWork) -> Problem:
    async with uow:
        conn = uow.connection
        repo = ProblemRepository(conn)
        problem = await repo.get(cmd.problem_id, for_update=True)
        if problem is None:
            raise NotFound(f"problem {cmd.problem_id} does not exist")
        if cmd.expected_version is not None and cmd.expected_version != problem.version:
            raise PreconditionFailed(f"{problem.number} is at version {problem.version}, not {cmd.expected_version}")
        numbers = await _incident_numbers(conn, cmd.incident_ids)
        read_version = problem.version
        now = datetime.now(UTC)
        added = problem.link_incidents(cmd.incident_ids, cmd.actor, now)
        added_numbers = {i: numbers[i] for i in added}
        await repo.save(problem, read_version, _link_rows(problem, added_numbers, "manual", cmd.actor, now))
        uow.emit_pending(problem, events_problem.to_contract)
        await _mark_incidents(uow, problem, added_numbers, "manual", cmd.actor, now)
        await uow.commit()
    return problem


async def _incident_numbers(conn: AsyncConnection, incident_ids: list[UUID]) -> dict[UUID, str]:
    if not incident_ids:
        return {}
    rows = await conn.execute(select(incident.c.id, incident.c.number).where(incident.c.id.in_(incident_ids)))
    numbers = {r.id: r.number for r in rows}
    missing = [str(i) for i in incident_ids if i not in numbers]
    if missing:
        raise RuleViolation(f"no such incident: {', '.join(missing)}", field="incident_ids")
    return numbers


def _link_rows(
    problem: Problem, numbers: dict[UUID, str], reason: str, actor: str, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "problem_id": problem.id,
            "incident_id": incident_id,
            "incident_number": number,
            "reason": reason,
            "linked_at": now,
            "actor": actor,
        }
        for incident_id, number in numbers.items()
    ]


async def _mark_incidents(
    uow: UnitOfWork, problem: Problem, numbers: dict[UUID, str], reason: str, actor: str, now: datetime
) -> None:
    for incident_id, number in numbers.items():
        await link_incident_fields(
            uow.connection,
            incident_id,
            {"problem_id": problem.id, "problem_number": problem.number},
            actor=actor,
            action="link_problem",
            now=now,
        )
        uow.emit(
            events_problem.linked_to_problem(
                incident_id=incident_id,
                incident_number=number,
                problem=problem,
                reason="manual" if reason == "manual" else "recurrence",
                workaround=None,
                now=now,
            ),
            subject=str(incident_id),
        )


# ---------------------------------------------------------------------------- known errors


@dataclass(frozen=True)
class RecordKnownError:
    """A known error entered directly: a problem is opened for it and published at once, so every
    known error has its problem (the record of its root cause and resolution)."""

    title: str
    symptoms: str
    root_cause: str
    workaround: str
    actor: str
    ci_id: UUID | None = None
    service_id: UUID | None = None
    category: str | None = None


async def record_known_error(cmd: RecordKnownError, uow: UnitOfWork) -> KnownError:
    require_match_scope(cmd.ci_id, cmd.service_id, cmd.category)
    async with uow:
        conn = uow.connection
        now = datetime.now(UTC)
        problem = Problem.open(
            problem_id=uuid4(),
            number="",
            title=cmd.title,
            description=cmd.symptoms,
            origin=ProblemOrigin.MANUAL,
            actor=cmd.actor,
            now=now,
            ci_id=cmd.ci_id,
            service_id=cmd.service_id,
            category=cmd.category,
        )
        repo = ProblemRepository(conn)
        await repo.add(problem)
        read_version = problem.version
        problem.investigate(cmd.actor, now)
        problem.publish_known_error(
            root_cause=cmd.root_cause, workaround=cmd.workaround, known_error_id=uuid4(), actor=cmd.actor, now=now
        )
        await repo.save(problem, read_version)
        await _follow_known_error(conn, problem, now)
        uow.emit_pending(problem, events_problem.to_contract)
        assert problem.known_error_id is not None
        record = await get_known_error(conn, problem.known_error_id)
        assert record is not None
        await uow.commit()
    return record


async def retire_known_error(known_error_id: UUID, uow: UnitOfWork) -> KnownError:
    """Take a known error out of matching without touching its problem (e.g. a wrong workaround)."""
    async with uow:
        conn = uow.connection
        record = await get_known_error(conn, known_error_id)
        if record is None:
            raise NotFound(f"known error {known_error_id} does not exist")
        if record.status is not KnownErrorStatus.RETIRED:
            record.status = KnownErrorStatus.RETIRED
            record.updated_at = datetime.now(UTC)
            await save_known_error(conn, record)
        await uow.commit()
    return record
