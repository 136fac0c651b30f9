"""Continuity plan invocations (6.3): invoked for a major incident, returned to normal, reviewed;
and the continuity pack's content, each export recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid4

from services.config.domain.continuity import InvocationStatus, PlanKind, advance, check_return
from services.config.store import continuity as store
from services.config.usecases.continuity import plan_answer
from services.config.usecases.spof import spofs_json, spofs_of
from shared import clock
from shared.errors import NotFound, RuleViolation, check_version
from shared.events.continuity import (
    ContinuityInvocationReviewed,
    ContinuityInvoked,
    ContinuityPackExported,
    ContinuityReturnedToNormal,
)
from shared.uow import UnitOfWork

MAX_TIMELINE = 200


async def invoke(plan_id: UUID, body: Mapping[str, Any], actor: str, uow: UnitOfWork) -> dict[str, Any]:
    async with uow:
        conn = uow.connection
        plan = await store.get_plan(conn, plan_id)
        if plan is None:
            raise NotFound(f"continuity plan {plan_id}")
        if plan.kind != PlanKind.CONTINUITY:
            raise RuleViolation("only a continuity plan is invoked", field="plan_id")
        now = clock.now()
        if body["invoked_at"] > now:
            raise RuleViolation("an invocation is recorded once made: invoked_at is in the future", field="invoked_at")
        values = {
            "id": uuid4(),
            "plan_id": plan_id,
            "status": InvocationStatus.INVOKED.value,
            "major_incident_number": body["major_incident_number"],
            "reason": body["reason"],
            "invoked_at": body["invoked_at"],
            "invoked_by": actor,
            "timeline": sorted(body["timeline"], key=lambda e: e["at"]),
            "returned_to_normal_at": None,
            "review": None,
            "version": 1,
        }
        await store.add_invocation(conn, values)
        uow.emit(
            ContinuityInvoked(
                invocation_id=values["id"],
                plan_id=plan_id,
                title=plan.title,
                service_ids=[UUID(s) for s in plan.service_ids],
                major_incident_number=values["major_incident_number"],
                reason=values["reason"],
                invoked_at=values["invoked_at"],
                invoked_by=actor,
            ),
            subject=str(values["id"]),
        )
        await uow.commit()
    return values


async def return_to_normal(
    invocation_id: UUID, body: Mapping[str, Any], actor: str, expected: int | None, uow: UnitOfWork
) -> dict[str, Any]:
    async with uow:
        row, values = await _load(uow, invocation_id, expected, "return")
        check_return(row.invoked_at, body["returned_to_normal_at"], clock.now())
        timeline = sorted([*row.timeline, *body["timeline"]], key=lambda e: str(e["at"]))
        if len(timeline) > MAX_TIMELINE:
            raise RuleViolation(f"a timeline holds at most {MAX_TIMELINE} entries", field="timeline")
        values |= {"returned_to_normal_at": body["returned_to_normal_at"], "timeline": timeline}
        await store.save_invocation(uow.connection, invocation_id, values)
        uow.emit(
            ContinuityReturnedToNormal(
                invocation_id=invocation_id,
                plan_id=row.plan_id,
                major_incident_number=row.major_incident_number,
                invoked_at=row.invoked_at,
                returned_to_normal_at=body["returned_to_normal_at"],
                recorded_by=actor,
            ),
            subject=str(invocation_id),
        )
        await uow.commit()
    return {**row._asdict(), **values}


async def review(
    invocation_id: UUID, body: Mapping[str, Any], actor: str, expected: int | None, uow: UnitOfWork
) -> dict[str, Any]:
    async with uow:
        row, values = await _load(uow, invocation_id, expected, "review")
        values["review"] = body
        await store.save_invocation(uow.connection, invocation_id, values)
        uow.emit(
            ContinuityInvocationReviewed(
                invocation_id=invocation_id,
                plan_id=row.plan_id,
                major_incident_number=row.major_incident_number,
                reviewed_at=clock.now(),
                reviewed_by=actor,
            ),
            subject=str(invocation_id),
        )
        await uow.commit()
    return {**row._asdict(), **values}


async def _load(uow: UnitOfWork, invocation_id: UUID, expected: int | None, action: str) -> tuple[Any, dict[str, Any]]:
    row = await store.get_invocation(uow.connection, invocation_id, for_update=True)
    if row is None:
        raise NotFound(f"continuity invocation {invocation_id}")
    check_version(f"continuity invocation {invocation_id}", row.version, expected)
    status = advance(InvocationStatus(row.status), action)
    return row, {"status": status.value, "version": row.version + 1}


async def export_pack(actor: str, uow: UnitOfWork) -> dict[str, Any]:
    """Everything the continuity pack holds (the plans with their contacts, the services they cover
    with the CIs that run them, the relationships touching those), and a record of the export."""
    async with uow:
        conn = uow.connection
        now = clock.now()
        plans = await store.all_plans(conn)
        service_ids = sorted({UUID(s) for p in plans for s in p.service_ids})
        services, members = await store.services_and_cis(conn, service_ids)
        ids = [*(s.id for s in services), *(m.id for m in members)]
        relationships = await store.relationships_among(conn, ids)
        # The availability plan's single points of failure per service (None: too large to analyse).
        spofs = {s.id: spofs_json(await spofs_of(conn, s.id)) for s in services}
        by_service: dict[UUID, list[dict[str, Any]]] = {}
        for m in members:
            by_service.setdefault(m.service_id, []).append(_ci(m))
        export = {
            "id": uuid4(),
            "exported_at": now,
            "exported_by": actor,
            "plans": len(plans),
            "services": len(services),
            "cis": len(members),
        }
        await store.add_pack_export(conn, export)
        uow.emit(
            ContinuityPackExported(
                export_id=export["id"],
                plans=len(plans),
                services=len(services),
                cis=len(members),
                exported_at=now,
                exported_by=actor,
            ),
            subject=str(export["id"]),
        )
        await uow.commit()
    return {
        "export_id": export["id"],
        "exported_at": now,
        "exported_by": actor,
        "plans": [plan_answer(p, now) for p in plans],
        "services": [
            {**_ci(s), "cis": by_service.get(s.id, []), "single_points_of_failure": spofs[s.id]} for s in services
        ],
        "relationships": [
            {"source_id": str(r.source_id), "type": r.type, "target_id": str(r.target_id)} for r in relationships
        ],
    }


def _ci(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "number": row.number,
        "name": row.name,
        "type": row.type,
        "status": row.status,
        "criticality": row.criticality,
        "owner": row.owner,
    }
