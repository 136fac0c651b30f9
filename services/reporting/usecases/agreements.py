"""Agreement use cases (ISO/IEC 20000-1 6.2): propose, agree and retire a report's agreement, and
read where each report's agreement stands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain import agreements as domain
from services.reporting.domain.agreements import AgreementVersion, Recipient
from services.reporting.domain.definitions import DEFINITIONS
from services.reporting.store import agreements as store
from services.reporting.usecases import reports
from shared.errors import NotFound, PreconditionFailed, PreconditionRequired
from shared.uow import UnitOfWork

# Agreements


@dataclass(frozen=True)
class AgreementView:
    latest: AgreementVersion
    in_force: AgreementVersion | None
    scheduled: bool
    allowed_actions: list[str]
    definition_changed: bool
    """The report's definition in the code differs from the one this version records."""


def _view(versions: Sequence[AgreementVersion]) -> AgreementView:
    latest = versions[-1]
    in_force = domain.in_force(versions)
    current = reports.definition_json(reports.definition(latest.report))
    return AgreementView(
        latest=latest,
        in_force=in_force,
        scheduled=domain.scheduled(versions) is not None,
        allowed_actions=domain.allowed_actions(latest),
        definition_changed=dict(latest.definition) != current,
    )


async def agreement(conn: AsyncConnection, name: str) -> AgreementView:
    reports.definition(name)
    found = await store.versions(conn, name)
    if not found:
        raise NotFound(f"report {name!r} has no agreement yet; propose one (PUT .../agreement)", report=name)
    return _view(found)


async def agreement_version(conn: AsyncConnection, name: str, version: int) -> AgreementVersion:
    reports.definition(name)
    for v in await store.versions(conn, name):
        if v.version == version:
            return v
    raise NotFound(f"report {name!r} has no agreement version {version}")


async def agreement_versions(
    conn: AsyncConnection, name: str, *, limit: int, offset: int
) -> tuple[list[AgreementVersion], int]:
    reports.definition(name)
    return await store.version_page(conn, name, limit=limit, offset=offset)


@dataclass(frozen=True)
class AgreementSummary:
    report: str
    latest: AgreementVersion | None
    in_force: AgreementVersion | None
    scheduled: bool


async def agreement_summaries(conn: AsyncConnection) -> list[AgreementSummary]:
    """Every defined report with where its agreement stands (none yet, draft, agreed, retired)."""
    found = await store.latest_versions(conn)
    summaries = []
    for d in DEFINITIONS:
        versions = found.get(d.name, [])
        summaries.append(
            AgreementSummary(
                report=d.name,
                latest=versions[-1] if versions else None,
                in_force=domain.in_force(versions),
                scheduled=domain.scheduled(versions) is not None,
            )
        )
    return summaries


def _check_version(latest: AgreementVersion | None, expected: int | None, name: str) -> None:
    if latest is None:
        if expected is not None:
            raise PreconditionFailed(f"report {name!r} has no agreement yet: send no If-Match to propose the first")
        return
    if expected is None:
        raise PreconditionRequired(
            f'send If-Match with the ETag of the agreement you read (If-Match: W/"{latest.version}")'
        )
    if expected != latest.version:
        raise PreconditionFailed(
            f"the agreement of {name!r} is at version {latest.version}, not {expected}; read it again"
        )


async def _write(
    uow: UnitOfWork, name: str, expected: int | None, make: Callable[[AgreementVersion | None], AgreementVersion]
) -> AgreementView:
    reports.definition(name)
    async with uow:
        conn = uow.connection
        found = await store.versions(conn, name)
        latest = found[-1] if found else None
        _check_version(latest, expected, name)
        new = make(latest)
        await store.append_version(conn, new)
        await uow.commit()
    return _view([*found, new])


async def propose(
    uow: UnitOfWork,
    name: str,
    *,
    expected: int | None,
    owner: str,
    agreed_with: Sequence[str],
    distribution_list: Sequence[Recipient],
    reason: str,
    by: str,
    now: datetime,
) -> AgreementView:
    definition = reports.definition_json(reports.definition(name))
    return await _write(
        uow,
        name,
        expected,
        lambda latest: domain.propose(
            latest,
            report=name,
            owner=owner,
            agreed_with=agreed_with,
            distribution_list=distribution_list,
            definition=definition,
            reason=reason,
            by=by,
            at=now,
        ),
    )


async def agree(
    uow: UnitOfWork,
    name: str,
    *,
    expected: int | None,
    agreed_with: Sequence[str] | None,
    agreed_at: datetime | None,
    reason: str,
    by: str,
    now: datetime,
) -> AgreementView:
    return await _write(
        uow,
        name,
        expected,
        lambda latest: domain.agree(
            latest, report=name, agreed_with=agreed_with, agreed_at=agreed_at, reason=reason, by=by, at=now
        ),
    )


async def retire(
    uow: UnitOfWork, name: str, *, expected: int | None, reason: str, by: str, now: datetime
) -> AgreementView:
    return await _write(
        uow, name, expected, lambda latest: domain.retire(latest, report=name, reason=reason, by=by, at=now)
    )
