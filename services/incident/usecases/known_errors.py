"""The known error database's use cases (ISO/IEC 20000-1 8.2): a known error entered directly, retired
by hand, and the record that follows its problem's root cause and workaround."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident import events
from services.incident.domain.known_errors import KnownError, KnownErrorStatus, require_match_scope
from services.incident.domain.problems import Problem, ProblemAction, ProblemChanged, ProblemOrigin
from services.incident.store.known_errors import (
    add_known_error,
    get_known_error,
    known_error_of_problem,
    next_known_error_number,
    save_known_error,
)
from services.incident.store.problems import ProblemRepository
from shared import clock
from shared.errors import found
from shared.uow import UnitOfWork


async def follow_known_error(conn: AsyncConnection, problem: Problem, now: datetime) -> None:
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
        now = clock.now()
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
        await follow_known_error(conn, problem, now)
        uow.emit_pending(problem, events.problem_contract)
        assert problem.known_error_id is not None
        record = await get_known_error(conn, problem.known_error_id)
        assert record is not None
        await uow.commit()
    return record


async def retire_known_error(known_error_id: UUID, uow: UnitOfWork) -> KnownError:
    """Take a known error out of matching without touching its problem (e.g. a wrong workaround)."""
    async with uow:
        conn = uow.connection
        record = found(await get_known_error(conn, known_error_id), f"known error {known_error_id}")
        if record.status is not KnownErrorStatus.RETIRED:
            record.status = KnownErrorStatus.RETIRED
            record.updated_at = clock.now()
            await save_known_error(conn, record)
        await uow.commit()
    return record
