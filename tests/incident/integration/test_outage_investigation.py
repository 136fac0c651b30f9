"""The outage-investigation job (ISO/IEC 20000-1 6.3) with two replicas on one PostgreSQL database:
an unplanned outage over the threshold that nobody linked a problem to gets exactly one problem
(and its events, outbox rows counted) after the grace period; one a person linked, one under the
threshold and one still within its grace get none."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from services.incident.app import SPEC
from services.incident.domain.incident_lifecycle import Channel
from services.incident.domain.priority import Impact, Urgency
from services.incident.settings import IncidentSettings
from services.incident.store.tables import incident, outbox, problem, problem_incident
from services.incident.usecases import incidents as usecases
from services.incident.usecases import outages, problems
from shared import clock
from shared.db import create_engine
from shared.events import CloudEvent
from shared.periodic import PeriodicRunner
from shared.uow import UnitOfWork
from tests.infra import Servers, create_service_database

pytestmark = pytest.mark.asyncio(loop_scope="session")

SERVICE = uuid4()
OUTAGE_TYPES = ("itsm.problem.created.v1", "itsm.incident.linked_to_problem.v1")


def _unit_of_work(engine: Any) -> Callable[[], UnitOfWork]:
    return lambda: UnitOfWork(engine, outbox, source="/itsm/incident")


async def _outbox(engine: Any) -> list[CloudEvent]:
    async with engine.connect() as conn:
        payloads = (await conn.scalars(select(outbox.c.payload).order_by(outbox.c.id))).all()
    return [CloudEvent.model_validate_json(p) for p in payloads]


async def _outage(
    uow: Callable[[], UnitOfWork], title: str, opened: datetime, lasted: timedelta, *, major: bool = True
) -> UUID:
    """An incident on the service, opened and resolved at the given times (recorded as history)."""
    with clock.occurring_at(opened):
        urgency, impact = (Urgency.HIGH, Impact.HIGH) if not major else (Urgency.MEDIUM, Impact.MEDIUM)
        opened_incident = await usecases.open_incident(
            usecases.OpenIncident(title, "", "bob", Channel.PHONE, urgency, impact, service_id=SERVICE), uow()
        )
        act = usecases.Act(opened_incident.id, "ann")
        await usecases.act(
            act, uow(), lambda i, now: i.assign(group="payments-ops", assignee="ann", actor="ann", now=now)
        )
        if major:
            await usecases.declare_major(act, uow(), manager="mia")
    with clock.occurring_at(opened + lasted):
        await usecases.resolve_incident(act, uow(), code="fixed", notes="restarted")
    return opened_incident.id


async def test_two_replicas_open_one_investigation_per_outage_and_none_for_a_linked_one(
    servers: Servers, make_settings: Callable[..., Any]
) -> None:
    url = await create_service_database(servers, "incident", label="outages")
    settings = make_settings(
        IncidentSettings, url, outage_investigation_threshold_min=60, outage_investigation_grace_h=24
    )
    setup = create_engine(url)
    try:
        await _test(url, settings, setup)
    finally:
        await setup.dispose()


async def _test(url: str, settings: IncidentSettings, setup: Any) -> None:
    uow = _unit_of_work(setup)
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=3)
    forgotten = await _outage(uow, "Payments down", long_ago, timedelta(hours=2))
    # priority 1 (not declared major) counts as an outage too
    forgotten_p1 = await _outage(uow, "Checkout down", long_ago, timedelta(minutes=61), major=False)
    investigated = await _outage(uow, "Payments down again", long_ago, timedelta(hours=3))
    brief = await _outage(uow, "Payments blip", long_ago, timedelta(minutes=59))
    recent = await _outage(uow, "Payments down today", now - timedelta(hours=5), timedelta(hours=2))
    by_hand = await problems.open_problem(
        problems.OpenProblem("Payments gateway memory leak", "", "ann", incident_ids=[investigated]), uow()
    )
    before = len(await _outbox(setup))

    engines = [create_engine(url, pool_size=2) for _ in range(2)]
    runners = [
        PeriodicRunner(SPEC.periodic, unit_of_work=_unit_of_work(e), engine=e, settings=settings) for e in engines
    ]
    try:
        await asyncio.gather(*(r.run_once(outages.JOB, now=now) for r in runners))
        await asyncio.gather(*(r.run_once(outages.JOB, now=now) for r in runners))
        first = (await _outbox(setup))[before:]
        # a day later the recent outage's grace is over: its investigation, and nothing else again
        later = now + timedelta(hours=24)
        await asyncio.gather(*(r.run_once(outages.JOB, now=later) for r in runners))
        await asyncio.gather(*(r.run_once(outages.JOB, now=later) for r in runners))
        second = (await _outbox(setup))[before + len(first) :]
    finally:
        for e in engines:
            await e.dispose()

    def opened_for(raised: list[CloudEvent]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for e in raised:
            assert e.type in OUTAGE_TYPES, e.type
            if e.type == "itsm.problem.created.v1":
                assert e.data["origin"] == "outage"
                assert e.data["actor"] == outages.INVESTIGATOR
                (incident_id,) = e.data["incident_ids"]
                found.setdefault(incident_id, []).append(e.data["problem_id"])
            else:
                assert e.data["reason"] == "outage"
                found.setdefault(e.data["incident_id"], []).append(e.data["problem_id"])
        return found

    first_opened = opened_for(first)
    assert set(first_opened) == {str(forgotten), str(forgotten_p1)}
    # one problem per outage, announced once and linked once
    assert all(len(ids) == 2 and len(set(ids)) == 1 for ids in first_opened.values())
    second_opened = opened_for(second)
    assert set(second_opened) == {str(recent)}
    assert len(second_opened[str(recent)]) == 2

    async with setup.connect() as conn:
        rows = (await conn.execute(select(problem).where(problem.c.origin == "outage"))).all()
        assert sorted(r.title for r in rows) == sorted(
            f"Outage investigation: {n} on {SERVICE}"
            for n in (
                await conn.scalars(
                    select(incident.c.number).where(incident.c.id.in_([forgotten, forgotten_p1, recent]))
                )
            ).all()
        )
        assert {r.owner for r in rows} == {"payments-ops"}
        assert {r.service_id for r in rows} == {SERVICE}
        links = dict((await conn.execute(select(problem_incident.c.incident_id, problem_incident.c.problem_id))).all())
        assert links[investigated] == by_hand.id
        assert brief not in links
        on_incident = dict((await conn.execute(select(incident.c.id, incident.c.problem_id))).all())
        assert on_incident[forgotten] == links[forgotten] and on_incident[recent] == links[recent]
        assert on_incident[brief] is None
