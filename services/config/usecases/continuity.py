"""Continuity and availability plans (6.3): record a plan, revise it under an approved change, record
a test, and make a re-test due when a major change to the service environment is implemented."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from services.config.domain.continuity import (
    RETEST_DAYS,
    WARN_DAYS,
    RecoveryTarget,
    due_status,
    next_test_due,
    require_approved_change,
    retest_due_by,
    validate_plan,
)
from services.config.domain.types import BUSINESS_SERVICE
from services.config.store import continuity as store
from services.config.store.change_control import change_window_by_number
from services.config.store.items import ConfigItemRepository
from shared import clock
from shared.errors import NotFound, RuleViolation, check_version
from shared.events.continuity import ContinuityPlanRecorded, ContinuityRetestDue, ContinuityTestRecorded
from shared.uow import UnitOfWork

DOCUMENT_FIELDS = (
    "invocation_criteria",
    "invocation_authority",
    "recovery_targets",
    "targets_while_invoked",
    "procedures",
    "return_to_normal",
    "contacts",
)


def _document(body: Mapping[str, Any]) -> dict[str, Any]:
    return {name: body[name] for name in DOCUMENT_FIELDS}


async def _check(uow: UnitOfWork, body: Mapping[str, Any]) -> list[UUID]:
    services = [UUID(str(s)) for s in body["service_ids"]]
    targets = [
        RecoveryTarget(UUID(str(t["service_id"])), int(t["rto_minutes"]), int(t["rpo_minutes"]))
        for t in body["recovery_targets"]
    ]
    validate_plan(services, targets)
    for index, target in enumerate(body["targets_while_invoked"]):
        if UUID(str(target["service_id"])) not in services:
            raise RuleViolation(
                f"target {index} names a service the plan does not cover", field="targets_while_invoked"
            )
    found = await ConfigItemRepository(uow.connection).existing(services)
    for service_id in services:
        item = found.get(service_id)
        if item is None or item.ci_type != BUSINESS_SERVICE:
            raise RuleViolation(f"{service_id} is not a business service of the catalogue", field="service_ids")
    return services


async def record_plan(body: Mapping[str, Any], actor: str, uow: UnitOfWork) -> dict[str, Any]:
    """The first version of a plan (body in the API's JSON form)."""
    async with uow:
        services = await _check(uow, body)
        now = clock.now()
        values = {
            "id": uuid4(),
            "kind": body["kind"],
            "title": body["title"],
            "version": 1,
            "service_ids": [str(s) for s in services],
            "document": _document(body),
            "test_interval_days": body["test_interval_days"],
            "test_due_by": next_test_due(None, now, body["test_interval_days"]),
            "retest_change_number": None,
            "last_tested_at": None,
            "created_at": now,
            "updated_at": now,
            "updated_by": actor,
        }
        await store.add_plan(uow.connection, values)
        await _version_recorded(uow, values, None)
        await uow.commit()
    return plan_answer(values, now)


async def revise_plan(
    plan_id: UUID, body: Mapping[str, Any], actor: str, expected: int | None, uow: UnitOfWork
) -> dict[str, Any]:
    """A new version of the plan: only under an approved change naming the plan or a service it
    covers (before or after the revision), inside the change's window."""
    async with uow:
        conn = uow.connection
        plan = await store.get_plan(conn, plan_id, for_update=True)
        if plan is None:
            raise NotFound(f"continuity plan {plan_id}")
        check_version(f"continuity plan {plan_id}", plan.version, expected)
        now = clock.now()
        number = body["change_number"]
        change = await change_window_by_number(conn, number)
        touched = {UUID(s) for s in plan.service_ids} | {UUID(str(s)) for s in body["service_ids"]}
        require_approved_change(sorted(touched), plan_id, change, number, now)
        services = await _check(uow, body)
        values = {
            **plan._asdict(),
            "kind": body["kind"],
            "title": body["title"],
            "version": plan.version + 1,
            "service_ids": [str(s) for s in services],
            "document": _document(body),
            "test_interval_days": body["test_interval_days"],
            "test_due_by": _due(plan, body["test_interval_days"]),
            "updated_at": now,
            "updated_by": actor,
        }
        await store.save_plan(conn, plan_id, {k: v for k, v in values.items() if k != "id"})
        await _version_recorded(uow, values, number)
        await uow.commit()
    return plan_answer(values, now)


def _due(plan: Any, interval_days: int) -> datetime:
    scheduled = next_test_due(plan.last_tested_at, plan.created_at, interval_days)
    return min(scheduled, plan.test_due_by) if plan.retest_change_number else scheduled


async def _version_recorded(uow: UnitOfWork, values: Mapping[str, Any], change_number: str | None) -> None:
    snapshot = {
        "kind": values["kind"],
        "title": values["title"],
        "service_ids": values["service_ids"],
        "test_interval_days": values["test_interval_days"],
        **values["document"],
    }
    await store.add_plan_version(
        uow.connection,
        {
            "plan_id": values["id"],
            "version": values["version"],
            "snapshot": snapshot,
            "change_number": change_number,
            "recorded_at": values["updated_at"],
            "recorded_by": values["updated_by"],
        },
    )
    uow.emit(
        ContinuityPlanRecorded(
            plan_id=values["id"],
            kind=values["kind"],
            title=values["title"],
            version=values["version"],
            service_ids=[UUID(s) for s in values["service_ids"]],
            change_number=change_number,
            test_due_by=values["test_due_by"],
            recorded_at=values["updated_at"],
            recorded_by=values["updated_by"],
        ),
        subject=str(values["id"]),
    )


def plan_answer(row: Any, now: datetime) -> dict[str, Any]:
    """A stored plan (row or values) in the API's form: its document's parts at the top, its test status now."""
    plan = dict(row) if isinstance(row, Mapping) else row._asdict()
    document = plan.pop("document")
    return {**plan, **document, "test_status": due_status(plan["test_due_by"], now, WARN_DAYS).value}


async def record_test(plan_id: UUID, body: Mapping[str, Any], actor: str, uow: UnitOfWork) -> dict[str, Any]:
    """A test of the plan with its results: the next test falls due one interval on, and a re-test
    a major change made due is done."""
    async with uow:
        conn = uow.connection
        plan = await store.get_plan(conn, plan_id, for_update=True)
        if plan is None:
            raise NotFound(f"continuity plan {plan_id}")
        now = clock.now()
        tested_at: datetime = body["tested_at"]
        if tested_at > now:
            raise RuleViolation("a test is recorded once held: tested_at is in the future", field="tested_at")
        values = {
            "id": uuid4(),
            "plan_id": plan_id,
            "plan_version": plan.version,
            "type": body["type"],
            "tested_at": tested_at,
            "scope": body["scope"],
            "results": body["results"],
            "deficiencies": body["deficiencies"],
            "actions": body["actions"],
            "review": body.get("review"),
            "recorded_at": now,
            "recorded_by": actor,
        }
        await store.add_test(conn, values)
        last = max(tested_at, plan.last_tested_at) if plan.last_tested_at else tested_at
        due = next_test_due(last, plan.created_at, plan.test_interval_days)
        await store.save_plan(conn, plan_id, {"last_tested_at": last, "test_due_by": due, "retest_change_number": None})
        met = sum(1 for r in body["results"] if r["met"])
        uow.emit(
            ContinuityTestRecorded(
                test_id=values["id"],
                plan_id=plan_id,
                plan_version=plan.version,
                type=body["type"],
                tested_at=tested_at,
                requirements_met=met,
                requirements_missed=len(body["results"]) - met,
                deficiencies=len(body["deficiencies"]),
                reviewed=body.get("review") is not None,
                test_due_by=due,
                recorded_by=actor,
            ),
            subject=str(plan_id),
        )
        await uow.commit()
    return values


async def retest_after_major_change(
    uow: UnitOfWork, *, change_number: str, service_ids: list[UUID], implemented_at: datetime
) -> int:
    """A major change to the service environment, implemented: every plan covering one of its
    services has a re-test due (within RETEST_DAYS, or on schedule if sooner). The consumer commits."""
    conn = uow.connection
    plans = await store.plans_covering(conn, service_ids)
    now = clock.now()
    for plan in plans:
        due = retest_due_by(plan.test_due_by, implemented_at, RETEST_DAYS)
        await store.save_plan(conn, plan.id, {"test_due_by": due, "retest_change_number": change_number})
        touched = sorted({UUID(s) for s in plan.service_ids} & set(service_ids))
        uow.emit(
            ContinuityRetestDue(
                plan_id=plan.id,
                title=plan.title,
                change_number=change_number,
                service_ids=touched,
                test_due_by=due,
                occurred_at=now,
            ),
            subject=str(plan.id),
        )
    return len(plans)
