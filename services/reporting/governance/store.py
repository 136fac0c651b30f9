"""Report governance persistence: agreement versions, the distribution log and findings on runs.

The tables join the reporting service's metadata (`services.reporting.store.metadata`), so the
migrations, the unit of work and the tests see one schema. Agreement versions and findings are
append-only and the stored runs immutable: there is no update or delete for them here, and the
migration adds database triggers that refuse one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.governance.domain import AgreementVersion, Recipient
from services.reporting.store import metadata, report_run
from shared.db import UtcDateTime, insert_ignoring_duplicates, page
from shared.errors import PreconditionFailed

report_agreement = Table(
    "report_agreement",
    metadata,
    Column("report", String(50), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("agreed_with", JSON, nullable=False),
    Column("agreed_at", UtcDateTime),
    Column("distribution_list", JSON, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    # Two writers who read the same version both try to write the next one: one of them wins.
    PrimaryKeyConstraint("report", "version"),
)

report_distribution = Table(
    "report_distribution",
    metadata,
    Column("distribution_id", Uuid, primary_key=True),
    Column("run_id", Uuid, ForeignKey("report_run.run_id"), nullable=False, index=True),
    Column("recipient", String(2000), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(1000)),
    Column("last_attempt_at", UtcDateTime),
    Column("next_attempt_at", UtcDateTime),
    Column("delivered_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("run_id", "channel", "recipient"),
    Index("ix_report_distribution_due", "status", "next_attempt_at"),
)

report_finding = Table(
    "report_finding",
    metadata,
    Column("finding_id", Uuid, primary_key=True),
    Column("run_id", Uuid, ForeignKey("report_run.run_id"), nullable=False, index=True),
    Column("text", String(4000), nullable=False),
    Column("actions", JSON, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)


# Agreements


def _version(row: Any) -> AgreementVersion:
    r = row._mapping
    return AgreementVersion(
        report=r["report"],
        version=r["version"],
        status=r["status"],
        owner=r["owner"],
        agreed_with=tuple(r["agreed_with"]),
        agreed_at=r["agreed_at"],
        distribution_list=tuple(Recipient(d["recipient"], d["channel"]) for d in r["distribution_list"]),
        definition=r["definition"],
        reason=r["reason"],
        recorded_by=r["recorded_by"],
        recorded_at=r["recorded_at"],
    )


async def versions(conn: AsyncConnection, report: str) -> list[AgreementVersion]:
    """Every version of a report's agreement, oldest first."""
    a = report_agreement
    rows = await conn.execute(select(a).where(a.c.report == report).order_by(a.c.version))
    return [_version(r) for r in rows]


async def version_page(conn: AsyncConnection, report: str, *, limit: int, offset: int) -> tuple[list[Any], int]:
    a = report_agreement
    rows, total = await page(conn, select(a).where(a.c.report == report), a.c.version, limit=limit, offset=offset)
    return [_version(r) for r in rows], total


async def latest_versions(conn: AsyncConnection) -> dict[str, list[AgreementVersion]]:
    """Every report's versions (oldest first): what the scheduler needs in one query."""
    a = report_agreement
    found: dict[str, list[AgreementVersion]] = {}
    for row in await conn.execute(select(a).order_by(a.c.report, a.c.version)):
        version = _version(row)
        found.setdefault(version.report, []).append(version)
    return found


async def append_version(conn: AsyncConnection, v: AgreementVersion) -> None:
    """Record a new version; 412 when another writer recorded this version number first."""
    row = v.as_record()
    stmt = insert_ignoring_duplicates(conn, report_agreement).values(row).returning(report_agreement.c.version)
    if (await conn.execute(stmt)).first() is None:
        raise PreconditionFailed(f"the agreement of {v.report!r} was changed by someone else meanwhile; read it again")


# Runs and their distribution log


async def add_distributions(
    conn: AsyncConnection, run_id: UUID, recipients: Sequence[Recipient], now: datetime, ids: Sequence[UUID]
) -> None:
    rows = [
        {
            "distribution_id": i,
            "run_id": run_id,
            "recipient": r.recipient,
            "channel": r.channel,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for r, i in zip(recipients, ids, strict=True)
    ]
    if rows:
        await conn.execute(report_distribution.insert(), rows)


async def claim_due_distribution(conn: AsyncConnection, now: datetime) -> Any | None:
    """One delivery that is due, locked for this transaction; rows another replica holds are
    skipped, and a row it delivered meanwhile no longer matches (PostgreSQL re-checks the
    condition on the committed row before locking it)."""
    d = report_distribution
    query = (
        select(d)
        .where(d.c.status.in_(("pending", "failed")), d.c.next_attempt_at.is_not(None), d.c.next_attempt_at <= now)
        .order_by(d.c.next_attempt_at, d.c.distribution_id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (await conn.execute(query)).first()


async def record_attempt(conn: AsyncConnection, distribution_id: UUID, values: dict[str, Any]) -> None:
    d = report_distribution
    await conn.execute(
        update(d).where(d.c.distribution_id == distribution_id, d.c.status != "delivered").values(values)
    )


async def distributions(conn: AsyncConnection, run_id: UUID) -> list[Any]:
    d = report_distribution
    return list(await conn.execute(select(d).where(d.c.run_id == run_id).order_by(d.c.created_at, d.c.recipient)))


async def run(conn: AsyncConnection, run_id: UUID) -> Any | None:
    return (await conn.execute(select(report_run).where(report_run.c.run_id == run_id))).first()


async def run_exists(conn: AsyncConnection, run_id: UUID) -> bool:
    r = report_run
    return (await conn.execute(select(r.c.run_id).where(r.c.run_id == run_id))).first() is not None


async def distribution_counts(conn: AsyncConnection, run_ids: Sequence[UUID]) -> dict[UUID, dict[str, int]]:
    """Per run: deliveries by status."""
    if not run_ids:
        return {}
    d = report_distribution
    query = select(d.c.run_id, d.c.status, func.count()).where(d.c.run_id.in_(run_ids))
    found: dict[UUID, dict[str, int]] = {}
    for run_id, status, count in await conn.execute(query.group_by(d.c.run_id, d.c.status)):
        found.setdefault(run_id, {})[str(status)] = int(count)
    return found


# Findings and actions


async def add_finding(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(report_finding.insert().values(row))


async def findings(conn: AsyncConnection, run_id: UUID) -> list[Any]:
    f = report_finding
    query = select(f).where(f.c.run_id == run_id).order_by(f.c.recorded_at, f.c.finding_id)
    return list(await conn.execute(query))
