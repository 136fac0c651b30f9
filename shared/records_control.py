"""Records control (ISO/IEC 20000-1 4.3.3), the admin API every service mounts: its retention
policies, legal holds and disposal log. A service's `api/records_control.py` is one line,

    router = records_control.router(POLICY, retention, DISPOSABLES)

and its authorisation table takes `records_control.AUTHORISATION` (admin manages; the auditor
reads). The use cases (a policy set, a hold placed or released) are here too: they are the same
for every service, on the tables of `shared.retention_store`.

(No `from __future__ import annotations` here: FastAPI reads the annotations of the routes
`router()` defines, which name its local types.)
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import AwareDatetime, Field

from shared import clock, retention, retention_store
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import Principal, Role
from shared.authorization import Policy, Rule, row
from shared.deps import Limit, Offset
from shared.errors import RuleViolation, found
from shared.http import ApiModel, Page
from shared.retention import LegalHold, RetentionPolicy
from shared.retention_store import Disposable, RetentionTables
from shared.uow import UnitOfWork

AUTHORISATION: dict[str, dict[str, Rule]] = {
    "records_control.list_retention_policies": row(allow=[Role.AUDITOR]),
    "records_control.set_retention_policy": row(),
    "records_control.list_legal_holds": row(allow=[Role.AUDITOR]),
    "records_control.get_legal_hold": row(allow=[Role.AUDITOR]),
    "records_control.place_legal_hold": row(),
    "records_control.release_legal_hold": row(),
    "records_control.disposal_log": row(allow=[Role.AUDITOR]),
}
"""The rows of every service's table: admin sets policies and places and releases holds; the
auditor (and admin) reads them and the disposal log."""

RecordType = Annotated[str, Field(min_length=1, max_length=50, examples=["incident"])]


# ---------------------------------------------------------------------------- bodies


class RetentionPolicyWrite(ApiModel):
    retain_days: int = Field(ge=1, le=retention.MAX_RETAIN_DAYS, description="How long a record is kept")
    counted_from: str = Field(
        min_length=1, max_length=50, examples=["closed_at"], description="The record's timestamp the period runs from"
    )


class RetentionPolicyRead(ApiModel):
    record_type: str
    retain_days: int
    counted_from: str
    version: int
    updated_by: str
    updated_at: datetime


class LegalHoldCreate(ApiModel):
    record_type: RecordType
    record_id: UUID | None = Field(default=None, description="Left out: every record of the type is held")
    reason: str = Field(min_length=1, max_length=retention.MAX_REASON)
    until: AwareDatetime | None = Field(
        default=None, description="When the hold ends by itself, within 100 years (none: until released)"
    )


class LegalHoldRelease(ApiModel):
    reason: str = Field(default="", max_length=retention.MAX_REASON)


class LegalHoldRead(ApiModel):
    id: UUID
    record_type: str
    record_id: UUID | None
    reason: str
    placed_by: str
    placed_at: datetime
    until: datetime | None
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None
    active: bool


class DisposalRead(ApiModel):
    id: int
    record_type: str
    record_id: UUID
    number: str | None
    disposed_at: datetime
    action: str = Field(description="deleted: the row, its history and parts, and its published events")
    policy_version: int
    retain_days: int
    counted_from: str
    counted_from_at: datetime
    job_run: UUID


def _hold_read(hold: LegalHold, now: datetime) -> LegalHoldRead:
    return LegalHoldRead.from_record(hold, active=hold.active(now))


# ---------------------------------------------------------------------------- use cases


def _disposable(disposables: Sequence[Disposable], record_type: str) -> Disposable:
    for disposable in disposables:
        if disposable.record_type == record_type:
            return disposable
    names = ", ".join(d.record_type for d in disposables)
    raise RuleViolation(f"records under retention here are: {names}", field="record_type")


async def set_policy(
    uow: UnitOfWork,
    tables: RetentionTables,
    disposable: Disposable,
    body: RetentionPolicyWrite,
    who: Principal,
) -> RetentionPolicy:
    async with uow:
        current = await retention_store.get_policy(uow.connection, tables, disposable.record_type, lock="update")
        policy = retention.define_policy(
            disposable.record_type,
            body.retain_days,
            body.counted_from,
            disposable.timestamps,
            by=who.subject,
            now=clock.now(),
            current=current,
        )
        await retention_store.save_policy(uow.connection, tables, policy)
        await uow.commit()
        return policy


async def place_hold(
    uow: UnitOfWork,
    tables: RetentionTables,
    disposables: Sequence[Disposable],
    body: LegalHoldCreate,
    who: Principal,
) -> LegalHold:
    disposable = _disposable(disposables, body.record_type)
    async with uow:
        conn = uow.connection
        # Waits for a disposal pass of this type in progress (it holds the policy row shared).
        await retention_store.get_policy(conn, tables, disposable.record_type, lock="update")
        if body.record_id is not None and not await retention_store.record_exists(conn, disposable, body.record_id):
            raise RuleViolation(f"there is no {disposable.record_type} {body.record_id}", field="record_id")
        hold = retention.place_hold(
            uuid4(), disposable.record_type, body.record_id, body.reason, body.until, by=who.subject, now=clock.now()
        )
        await retention_store.save_hold(conn, tables, hold, new=True)
        uow.emit(retention_store.hold_placed(hold), subject=str(hold.id))
        await uow.commit()
        return hold


async def release_hold(
    uow: UnitOfWork, tables: RetentionTables, hold_id: UUID, body: LegalHoldRelease, who: Principal
) -> LegalHold:
    async with uow:
        conn = uow.connection
        hold = found(await retention_store.get_hold(conn, tables, hold_id), f"legal hold {hold_id}")
        released = retention.release_hold(hold, body.reason, by=who.subject, now=clock.now())
        await retention_store.save_hold(conn, tables, released, new=False)
        uow.emit(retention_store.hold_released(released), subject=str(hold.id))
        await uow.commit()
        return released


# ---------------------------------------------------------------------------- routes


def router(policy: Policy, tables: RetentionTables, disposables: Sequence[Disposable]) -> APIRouter:
    """The routes of a service's records control, under its authorisation table `policy`."""
    api = APIRouter(prefix="/api/v1", tags=["records control"], dependencies=[Depends(policy.enforce)])
    caller = Annotated[Principal, Depends(policy.caller)]
    path_type = Annotated[str, Path(min_length=1, max_length=50, description="The record type, e.g. incident")]
    types = ", ".join(d.record_type for d in disposables)

    @api.get(
        "/retention-policies",
        response_model=list[RetentionPolicyRead],
        summary=f"List the retention policies of the records kept here ({types})",
    )
    async def list_retention_policies(conn: ReadConnectionDep) -> Any:
        return [RetentionPolicyRead.from_record(p) for p in await retention_store.list_policies(conn, tables)]

    @api.put(
        "/retention-policies/{record_type}",
        response_model=RetentionPolicyRead,
        summary="Set how long a record type is kept, counted from which of its timestamps (a new version)",
    )
    async def set_retention_policy(
        record_type: path_type, body: RetentionPolicyWrite, uow: UnitOfWorkDep, who: caller
    ) -> Any:
        disposable = _disposable(disposables, record_type)
        return RetentionPolicyRead.from_record(await set_policy(uow, tables, disposable, body, who))

    @api.get("/legal-holds", response_model=Page[LegalHoldRead], summary="List legal holds, newest first")
    async def list_legal_holds(
        conn: ReadConnectionDep,
        record_type: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
        record_id: UUID | None = None,
        active: Annotated[bool, Query(description="Only the holds in force now")] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Any:
        now = clock.now()
        holds, total = await retention_store.list_holds(
            conn,
            tables,
            record_type=record_type,
            record_id=record_id,
            active_at=now if active else None,
            limit=limit,
            offset=offset,
        )
        return Page(items=[_hold_read(h, now) for h in holds], total=total, limit=limit, offset=offset)

    @api.get("/legal-holds/{hold_id}", response_model=LegalHoldRead, summary="Get one legal hold")
    async def get_legal_hold(hold_id: UUID, conn: ReadConnectionDep) -> Any:
        hold = found(await retention_store.get_hold(conn, tables, hold_id), f"legal hold {hold_id}")
        return _hold_read(hold, clock.now())

    @api.post(
        "/legal-holds",
        response_model=LegalHoldRead,
        status_code=201,
        summary="Place a legal hold on one record, or on every record of a type: it is not disposed of",
    )
    async def place_legal_hold(body: LegalHoldCreate, response: Response, uow: UnitOfWorkDep, who: caller) -> Any:
        hold = await place_hold(uow, tables, disposables, body, who)
        response.headers["Location"] = f"/api/v1/legal-holds/{hold.id}"
        return _hold_read(hold, clock.now())

    @api.post(
        "/legal-holds/{hold_id}/release",
        response_model=LegalHoldRead,
        summary="Release a legal hold: its records follow their retention policy again",
    )
    async def release_legal_hold(hold_id: UUID, body: LegalHoldRelease, uow: UnitOfWorkDep, who: caller) -> Any:
        return _hold_read(await release_hold(uow, tables, hold_id, body, who), clock.now())

    @api.get(
        "/disposal-log",
        response_model=Page[DisposalRead],
        summary="The disposal log: every record disposed of, when, under which policy version, by which job pass",
    )
    async def disposal_log(
        conn: ReadConnectionDep,
        record_type: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Any:
        rows, total = await retention_store.list_disposals(
            conn, tables, record_type=record_type, limit=limit, offset=offset
        )
        items = [DisposalRead.model_validate(r) for r in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    return api
