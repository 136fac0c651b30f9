"""Problem management use cases (ISO/IEC 20000-1 8.2) driven by people through the API: open a
problem, work it through its lifecycle, link incidents and the fixing change. Only these (and the
known error, analysis and alert use cases) commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident import events
from services.incident.domain.priority import Impact, Urgency, known_ci
from services.incident.domain.problems import Problem, ProblemOrigin
from services.incident.store.incident_links import link_incident_fields
from services.incident.store.incident_queries import incident_numbers
from services.incident.store.incidents import affected_ci
from services.incident.store.known_changes import known_change_number
from services.incident.store.problems import ProblemRepository
from services.incident.usecases import known_errors
from shared import clock
from shared.errors import RuleViolation, check_version, found
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


async def _check_ci(conn: AsyncConnection, ci_id: UUID | None) -> None:
    """A problem names only a CI config told this service about (a retired one too: the cause of
    recurring incidents may be a CI retired since)."""
    if ci_id is not None:
        known_ci(ci_id, await affected_ci(conn, ci_id))


async def open_problem(cmd: OpenProblem, uow: UnitOfWork) -> Problem:
    async with uow:
        conn = uow.connection
        await _check_ci(conn, cmd.ci_id)
        numbers = await _incident_numbers(conn, cmd.incident_ids)
        now = clock.now()
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
        uow.emit_pending(problem, events.problem_contract)
        await _mark_incidents(uow, problem, numbers, "manual", cmd.actor, now)
        await uow.commit()
    return problem


@dataclass(frozen=True)
class ActOnProblem:
    problem_id: UUID
    actor: str
    expected_version: int | None = None


async def _act(
    cmd: ActOnProblem, uow: UnitOfWork, apply: Callable[[Problem, datetime], None], *, ci_id: UUID | None = None
) -> Problem:
    """Apply one lifecycle action or edit (naming `ci_id`: checked first); the known error record
    follows its problem."""
    async with uow:
        conn = uow.connection
        await _check_ci(conn, ci_id)
        repo = ProblemRepository(conn)
        problem = found(await repo.get(cmd.problem_id, for_update=True), f"problem {cmd.problem_id}")
        check_version(problem.number, problem.version, cmd.expected_version)
        read_version = problem.version
        now = clock.now()
        apply(problem, now)
        await repo.save(problem, read_version)
        await known_errors.follow_known_error(conn, problem, now)
        uow.emit_pending(problem, events.problem_contract)
        await uow.commit()
    return problem


# ---------------------------------------------------------------------------- the named actions
# Each is `_act` with its domain action; `cmd.actor` is who does it.


async def update_problem(cmd: ActOnProblem, uow: UnitOfWork, *, changes: dict[str, Any], reason: str = "") -> Problem:
    apply: Callable[[Problem, datetime], None] = lambda p, now: p.update(changes, cmd.actor, now, reason)  # noqa: E731
    return await _act(cmd, uow, apply, ci_id=changes.get("ci_id"))


async def investigate_problem(cmd: ActOnProblem, uow: UnitOfWork, *, owner: str | None = None) -> Problem:
    return await _act(cmd, uow, lambda p, now: p.investigate(cmd.actor, now, owner))


async def publish_known_error(cmd: ActOnProblem, uow: UnitOfWork, *, root_cause: str, workaround: str) -> Problem:
    """Publish as a known error; its known error record follows (created on first publication)."""

    def apply(problem: Problem, now: datetime) -> None:
        problem.publish_known_error(
            root_cause=root_cause,
            workaround=workaround,
            known_error_id=problem.known_error_id or uuid4(),
            actor=cmd.actor,
            now=now,
        )

    return await _act(cmd, uow, apply)


async def link_change(
    cmd: ActOnProblem, uow: UnitOfWork, *, change_id: UUID, change_number: str, reason: str = ""
) -> Problem:
    """Link the change raised to fix the problem: one the service has learnt from the change
    service's events, under its own number (422 naming `change_id` or `change_number` otherwise)."""

    def apply(p: Problem, now: datetime) -> None:
        p.link_change(change_id, change_number, cmd.actor, now, reason)
        if known is None:
            raise RuleViolation(f"change {change_id} is unknown to the incident service", field="change_id")
        if known != p.change_number:
            raise RuleViolation(f"change {change_id} is {known}, not {p.change_number}", field="change_number")

    async with uow:
        known = await known_change_number(uow.connection, change_id)
    return await _act(cmd, uow, apply)


async def resolve_problem(cmd: ActOnProblem, uow: UnitOfWork, *, resolution: str) -> Problem:
    return await _act(cmd, uow, lambda p, now: p.resolve(resolution=resolution, actor=cmd.actor, now=now))


async def reopen_problem(cmd: ActOnProblem, uow: UnitOfWork, *, reason: str) -> Problem:
    return await _act(cmd, uow, lambda p, now: p.reopen(reason, cmd.actor, now))


async def close_problem(cmd: ActOnProblem, uow: UnitOfWork, *, reason: str = "") -> Problem:
    return await _act(cmd, uow, lambda p, now: p.close(cmd.actor, now, reason))


async def cancel_problem(cmd: ActOnProblem, uow: UnitOfWork, *, reason: str) -> Problem:
    return await _act(cmd, uow, lambda p, now: p.cancel(reason, cmd.actor, now))


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
        problem = found(await repo.get(cmd.problem_id, for_update=True), f"problem {cmd.problem_id}")
        check_version(problem.number, problem.version, cmd.expected_version)
        numbers = await _incident_numbers(conn, cmd.incident_ids)
        read_version = problem.version
        now = clock.now()
        added = problem.link_incidents(cmd.incident_ids, cmd.actor, now)
        added_numbers = {i: numbers[i] for i in added}
        await repo.save(problem, read_version, _link_rows(problem, added_numbers, "manual", cmd.actor, now))
        uow.emit_pending(problem, events.problem_contract)
        await _mark_incidents(uow, problem, added_numbers, "manual", cmd.actor, now)
        await uow.commit()
    return problem


async def _incident_numbers(conn: AsyncConnection, incident_ids: list[UUID]) -> dict[UUID, str]:
    if not incident_ids:
        return {}
    numbers = await incident_numbers(conn, incident_ids)
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
            events.linked_to_problem(
                incident_id=incident_id,
                incident_number=number,
                problem=problem,
                reason="manual" if reason == "manual" else "recurrence",
                workaround=None,
                now=now,
            ),
            subject=str(incident_id),
        )
