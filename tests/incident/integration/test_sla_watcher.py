"""The SLA watcher with two replicas on one PostgreSQL database: each warning, breach and
escalation is raised exactly once per ticket and target (outbox rows counted), and never again."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.incident.app import SPEC
from services.incident.domain.incident_lifecycle import Channel, HoldReason
from services.incident.domain.priority import Impact, Urgency
from services.incident.domain.sla import Escalation, EscalationKind, SlaPolicy, TicketKind
from services.incident.settings import IncidentSettings
from services.incident.store.tables import incident, incident_history, outbox, sla_clock, sla_notice
from services.incident.usecases import incidents as usecases
from services.incident.usecases import sla
from shared.db import create_engine
from shared.events import CloudEvent
from shared.periodic import PeriodicRunner
from shared.uow import UnitOfWork
from tests.infra import Servers, create_service_database

pytestmark = pytest.mark.asyncio(loop_scope="session")

TICKETS = 120
SLA_TYPES = ("itsm.sla.warning.v1", "itsm.sla.breached.v1")


def _unit_of_work(engine: Any) -> Callable[[], UnitOfWork]:
    return lambda: UnitOfWork(engine, outbox, source="/itsm/incident")


async def _outbox(engine: Any) -> list[CloudEvent]:
    async with engine.connect() as conn:
        payloads = (await conn.scalars(select(outbox.c.payload).order_by(outbox.c.id))).all()
    return [CloudEvent.model_validate_json(p) for p in payloads]


async def test_two_watchers_raise_each_warning_breach_and_escalation_once(
    servers: Servers, make_settings: Callable[..., Any]
) -> None:
    url = await create_service_database(servers, "incident", label="sla_watch")
    settings = make_settings(IncidentSettings, url, sla_watch_batch=7)
    setup = create_engine(url)
    try:
        await _test(url, settings, setup)
    finally:
        await setup.dispose()


async def _test(url: str, settings: IncidentSettings, setup: Any) -> None:
    uow = _unit_of_work(setup)
    calendar = await sla.create_calendar(
        sla.CalendarInput(
            "24x7", "UTC", dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ("00:00", "24:00"))
        ),
        uow(),
    )
    # P4 without escalation: only the clock claim and the notice key keep its events single.
    await sla.create_policy(
        lambda pid, version: SlaPolicy(
            id=pid,
            name="default P4",
            ticket_kind=TicketKind.INCIDENT,
            service_id=None,
            priority=4,
            response_s=3600,
            resolution_s=4 * 3600,
            calendar_id=calendar.id,
            version=version,
        ),
        uow(),
    )
    quiet = [
        (
            await usecases.open_incident(
                usecases.OpenIncident(f"low {n}", "", "bob", Channel.API, Impact.LOW, Urgency.MEDIUM), uow()
            )
        ).id
        for n in range(TICKETS // 2)
    ]
    await sla.create_policy(
        lambda pid, version: SlaPolicy(
            id=pid,
            name="default P3",
            ticket_kind=TicketKind.INCIDENT,
            service_id=None,
            priority=3,
            response_s=3600,
            resolution_s=4 * 3600,
            calendar_id=calendar.id,
            warn_share=0.75,
            on_warning=Escalation(EscalationKind.HIERARCHICAL, notify=("duty-manager",)),
            on_breach=Escalation(EscalationKind.FUNCTIONAL, to_group="l2-network"),
            version=version,
        ),
        uow(),
    )
    # A third of the incidents is started at once (response met), a third is put on hold too
    # (resolution paused: it warns and breaches neither), a third is left alone.
    started, held, untouched = [], [], []
    for n in range(TICKETS):
        opened = await usecases.open_incident(
            usecases.OpenIncident(f"slow {n}", "", "bob", Channel.API, Impact.MEDIUM, Urgency.MEDIUM), uow()
        )
        if n % 3 == 0:
            untouched.append(opened.id)
            continue
        act = usecases.Act(opened.id, "ann")
        await usecases.act(act, uow(), lambda i, now: i.assign(group="network", assignee="ann", actor="ann", now=now))
        await usecases.act(act, uow(), lambda i, now: i.start("ann", now))
        if n % 3 == 1:
            started.append(opened.id)
        else:
            await usecases.act(act, uow(), lambda i, now: i.hold(HoldReason.AWAITING_CALLER, "ann", now))
            held.append(opened.id)
    before = len(await _outbox(setup))

    # Two replicas, each with its own engine, pass at the same instant, five hours on.
    engines = [create_engine(url, pool_size=2) for _ in range(2)]
    runners = [
        PeriodicRunner(SPEC.periodic, unit_of_work=_unit_of_work(e), engine=e, settings=settings) for e in engines
    ]
    later = datetime.now(UTC) + timedelta(hours=5)
    try:
        await asyncio.gather(*(r.run_once(sla.WATCHER, now=later) for r in runners))
        raised = (await _outbox(setup))[before:]
        # ... and again, and an hour later: nothing new.
        await asyncio.gather(*(r.run_once(sla.WATCHER, now=later) for r in runners))
        await asyncio.gather(*(r.run_once(sla.WATCHER, now=later + timedelta(hours=1)) for r in runners))
        assert len(await _outbox(setup)) == before + len(raised)
    finally:
        for e in engines:
            await e.dispose()

    sla_events = Counter((e.type, e.data["ticket_id"], e.data["target"]) for e in raised if e.type in SLA_TYPES)
    assert set(sla_events.values()) == {1}, "an SLA event was raised twice"
    expected = {(t, str(i), "response") for i in untouched + quiet for t in SLA_TYPES}
    expected |= {(t, str(i), "resolution") for i in untouched + started + quiet for t in SLA_TYPES}
    assert set(sla_events) == expected

    escalations = Counter(
        (e.data["incident_id"], e.data["kind"], e.data["trigger"])
        for e in raised
        if e.type == "itsm.incident.escalated.v1"
    )
    # Hierarchical on each warning (the untouched ones warn on both targets); functional once per
    # incident: its second breach finds it with the escalation group already.
    assert escalations == Counter(
        {(str(i), "hierarchical", "sla_warning"): 2 for i in untouched}
        | {(str(i), "hierarchical", "sla_warning"): 1 for i in started}
        | {(str(i), "functional", "sla_breached"): 1 for i in untouched + started}
    )
    # Through the incident's own escalate action: a functional escalation reassigns the incident
    # (the event carries the new group), with no separate incident.assigned.v1.
    reassigned = [e for e in raised if e.type == "itsm.incident.escalated.v1" and e.data["kind"] == "functional"]
    assert sorted(e.data["incident_id"] for e in reassigned) == sorted(str(i) for i in untouched + started)
    assert {(e.data["to_group"], e.data["assignment_group"]) for e in reassigned} == {("l2-network", "l2-network")}
    assert not [e for e in raised if e.type == "itsm.incident.assigned.v1"]

    async with setup.connect() as conn:
        notices = (await conn.execute(select(sla_notice.c.kind).select_from(sla_notice))).all()
        assert len(notices) == len(expected)
        groups = dict((await conn.execute(select(incident.c.id, incident.c.assignment_group))).all())
        assert {groups[i] for i in untouched + started} == {"l2-network"}
        assert {groups[i] for i in held} == {"network"}
        watcher_history = (
            await conn.execute(select(incident_history.c.reason).where(incident_history.c.actor == sla.WATCHER))
        ).all()
        # Each escalation is in the history (field `escalation`); the functional one also changes
        # untouched: status and group; started: group and assignee (the new group picks it up).
        # Untouched: two warnings and one breach escalated; started: one warning, one breach.
        assert len(watcher_history) == (2 + 3) * len(untouched) + (1 + 3) * len(started)
        flags = (await conn.execute(select(sla_clock.c.warned, sla_clock.c.breached, sla_clock.c.target))).all()
        assert sum(1 for w, b, _ in flags if w and b) == len(expected) // 2
        # the clocks carry the new group (the watcher tracked the incidents it reassigned)
        clock_groups = (await conn.execute(select(sla_clock.c.ticket_id, sla_clock.c.assignment_group))).all()
        assert {g for t, g in clock_groups if t in set(untouched)} == {"l2-network"}
