"""The incident use cases through a fake unit of work: state kept, events published on commit only
(with the SLA results they carry), a refused action commits and publishes nothing (no database,
no broker). Time is set with `clock.occurring_at`, as an import of past occurrences sets it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.incident.domain.catalogue import CatalogueItem
from services.incident.domain.incident_lifecycle import (
    DEFAULT_POLICY,
    Channel,
    ClosedBy,
    HoldReason,
    IncidentPolicy,
    IncidentStatus,
    NoteVisibility,
)
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import DEFAULT_PRIORITY_MATRIX, AffectedCI, Impact, Urgency
from services.incident.domain.sla import ClockState, SlaPolicy, TicketKind
from services.incident.domain.sla_calendars import BusinessCalendar
from services.incident.store.incidents import idempotency
from services.incident.usecases import incidents as usecases
from services.incident.usecases import requests
from services.incident.usecases.incidents import Act, OpenIncident
from shared import clock
from shared.errors import Conflict, Forbidden, InvalidTransition, NotFound, PreconditionFailed, RuleViolation
from shared.events import incident as contracts
from shared.idempotency import IdempotentCreate, Replay, StoredResponse
from tests.incident.fakes import IncidentFakes, fake_unit_of_work

T0 = datetime(2026, 11, 30, 9, tzinfo=UTC)
CALENDAR = uuid4()
SERVICE = uuid4()
HOUR = 3600


def policy(
    priority: int = 2, *, response_s: int = HOUR, resolution_s: int = 4 * HOUR, kind: TicketKind = TicketKind.INCIDENT
) -> SlaPolicy:
    return SlaPolicy(
        id=uuid4(),
        name=f"P{priority}",
        ticket_kind=kind,
        service_id=None,
        priority=priority,
        response_s=response_s,
        resolution_s=resolution_s,
        calendar_id=CALENDAR,
    )


def fakes(
    *incidents: Incident,
    policies: tuple[SlaPolicy, ...] = (),
    cis: tuple[AffectedCI, ...] = (),
    catalogue: tuple[CatalogueItem, ...] = (),
) -> IncidentFakes:
    calendars = {CALENDAR: BusinessCalendar.always()}
    return fake_unit_of_work(*incidents, cis=cis, policies=policies, calendars=calendars, catalogue=catalogue)


@contextmanager
def at(minutes: float) -> Iterator[None]:
    """Within the block, the use cases' now is `minutes` after T0."""
    with clock.occurring_at(T0 + timedelta(minutes=minutes)):
        yield


def command(**overrides: object) -> OpenIncident:
    values: dict[str, object] = {
        "title": "VPN down",
        "description": "nobody can connect",
        "caller": "bob",
        "channel": Channel.PHONE,
        "urgency": Urgency.HIGH,
        "impact": Impact.MEDIUM,
    }
    values.update(overrides)
    return OpenIncident(**values)  # type: ignore[arg-type]


async def opened(f: IncidentFakes, minutes: float = 0, **overrides: object) -> Incident:
    with at(minutes):
        result = await usecases.open_incident(command(**overrides), f.uow)
    assert isinstance(result, Incident)
    return result


def act(incident_id: UUID, actor: str = "alice", version: int | None = None) -> Act:
    return Act(incident_id, actor, version)


async def stored(f: IncidentFakes, incident_id: UUID) -> Incident:
    found = await f.incidents.get(incident_id)
    assert found is not None
    return found


async def resolved(f: IncidentFakes, minutes: float = 30) -> Incident:
    incident = await opened(f)
    with at(minutes):
        return await usecases.resolve_incident(act(incident.id), f.uow, code="fixed", notes="restarted the VPN")


# ---------------------------------------------------------------------------- opening


async def test_opening_stores_the_incident_starts_its_clocks_and_publishes_its_creation_on_commit() -> None:
    p2 = policy(2)
    f = fakes(policies=(p2,))

    incident = await opened(f)

    kept = await stored(f, incident.id)
    assert (kept.number, kept.status, kept.priority, kept.version) == ("INC0000001", IncidentStatus.NEW, 2, 1)
    assert f.uow.committed == 1
    [created] = f.sink.of_type(contracts.IncidentCreated)
    assert (created.incident_id, created.number, created.priority, created.impact, created.urgency) == (
        incident.id,
        "INC0000001",
        2,
        2,
        1,
    )
    assert created.opened_at == T0 and created.caller == "bob" and created.channel == "phone"
    assert f.sink.routing_keys == ["incident.created.v1"] and [e.subject for e in f.sink] == [str(incident.id)]
    clocks = f.clocks.clocks_of_ticket(incident.id)
    assert {t: (c.clock.state, c.clock.policy_id, c.clock.target_s) for t, c in clocks.items()} == {
        "response": (ClockState.RUNNING, p2.id, HOUR),
        "resolution": (ClockState.RUNNING, p2.id, 4 * HOUR),
    }
    assert clocks["resolution"].clock.due_at == T0 + timedelta(hours=4)
    assert clocks["response"].ticket.number == "INC0000001"


async def test_numbers_follow_each_other_and_no_policy_means_no_clocks() -> None:
    f = fakes()
    first, second = await opened(f), await opened(f, 1)
    assert (first.number, second.number) == ("INC0000001", "INC0000002")
    assert f.clocks.clocks.values() == [] and f.uow.committed == 2


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [(Impact.HIGH, Urgency.HIGH, 1), (Impact.MEDIUM, Urgency.HIGH, 2), (Impact.LOW, Urgency.LOW, 5)],
)
async def test_the_priority_comes_from_the_matrix(impact: Impact, urgency: Urgency, priority: int) -> None:
    f = fakes()
    incident = await opened(f, impact=impact, urgency=urgency)
    assert (await stored(f, incident.id)).priority == priority == DEFAULT_PRIORITY_MATRIX[(impact, urgency)]
    [created] = f.sink.of_type(contracts.IncidentCreated)
    assert created.priority == priority


async def test_the_configured_matrix_gives_the_priority() -> None:
    f = fakes()
    matrix = dict.fromkeys(DEFAULT_PRIORITY_MATRIX, 5) | {(Impact.MEDIUM, Urgency.HIGH): 3}
    with at(0):
        incident = await usecases.open_incident(command(), f.uow, IncidentPolicy(priority_matrix=matrix))
    assert isinstance(incident, Incident) and incident.priority == 3
    assert f.sink.of_type(contracts.IncidentCreated)[0].priority == 3


async def test_on_a_known_ci_the_impact_and_service_come_from_the_ci() -> None:
    ci = AffectedCI(uuid4(), "live", criticality=1, service_id=SERVICE)
    f = fakes(cis=(ci,))

    incident = await opened(f, impact=None, ci_id=ci.id)

    assert (incident.impact, incident.priority, incident.service_id) == (Impact.HIGH, 1, SERVICE)
    [created] = f.sink.of_type(contracts.IncidentCreated)
    assert (created.ci_id, created.service_id, created.impact) == (ci.id, SERVICE, int(Impact.HIGH))


@pytest.mark.parametrize("status", ["retired", None])
async def test_an_unknown_or_retired_ci_is_refused_and_nothing_is_written(status: str | None) -> None:
    ci = AffectedCI(uuid4(), status or "live", criticality=2, service_id=None)
    f = fakes(policies=(policy(2),), cis=(ci,) if status else ())

    with pytest.raises(RuleViolation) as refused:
        await opened(f, ci_id=ci.id)

    assert refused.value.extensions["errors"][0]["field"] == "ci_id"
    assert f.incidents.rows.values() == [] and f.clocks.clocks.values() == []
    assert f.uow.committed == 0 and len(f.sink) == 0


# ---------------------------------------------------------------------------- idempotent create


def once(key: str, body: dict[str, str]) -> IdempotentCreate[Incident] | None:
    def render(incident: Incident) -> StoredResponse:
        return StoredResponse(201, {"id": str(incident.id), "number": incident.number}, {"Location": incident.number})

    return idempotency.create_once(key, caller="bob", route="POST /api/v1/incidents", body=body, render=render)


async def test_a_retry_with_the_same_key_answers_the_first_response_and_creates_nothing() -> None:
    f = fakes()
    with at(0):
        first = await usecases.open_incident(command(), f.uow, once=once("k1", {"title": "VPN down"}))
        again = await usecases.open_incident(command(), f.uow, once=once("k1", {"title": "VPN down"}))

    assert isinstance(first, Incident) and isinstance(again, Replay)
    assert again.stored == StoredResponse(
        201, {"id": str(first.id), "number": "INC0000001"}, {"Location": "INC0000001"}
    )
    assert len(f.incidents.rows.values()) == 1 and f.sink.routing_keys == ["incident.created.v1"]

    with pytest.raises(RuleViolation) as refused, at(1):
        await usecases.open_incident(command(), f.uow, once=once("k1", {"title": "another"}))
    assert refused.value.extensions["errors"][0]["field"] == "Idempotency-Key"
    assert len(f.incidents.rows.values()) == 1 and len(f.sink) == 1


async def test_a_refused_create_does_not_keep_its_key() -> None:
    f = fakes()
    with pytest.raises(RuleViolation), at(0):
        await usecases.open_incident(command(title=" "), f.uow, once=once("k2", {"title": " "}))
    with at(1):
        result = await usecases.open_incident(command(), f.uow, once=once("k2", {"title": " "}))
    assert isinstance(result, Incident) and f.uow.committed == 1


# ---------------------------------------------------------------------------- the lifecycle


async def test_the_lifecycle_publishes_each_step_and_resolved_carries_the_sla_results() -> None:
    p2 = policy(2)
    f = fakes(policies=(p2,))
    incident = await opened(f)
    with at(5):
        await usecases.assign_incident(act(incident.id), f.uow, group="network", assignee="ivan")
    with at(10):
        await usecases.start_work(act(incident.id, "ivan"), f.uow)
    with at(60):
        await usecases.hold_incident(act(incident.id, "ivan"), f.uow, reason=HoldReason.AWAITING_CALLER)
    with at(180):
        await usecases.resume_incident(act(incident.id, "ivan"), f.uow)
    with at(240):
        await usecases.resolve_incident(act(incident.id, "ivan"), f.uow, code="fixed", notes="new certificate")
    with at(300):
        done = await usecases.close_incident(act(incident.id, "bob"), f.uow)

    assert f.sink.routing_keys == [
        "incident.created.v1",
        "incident.assigned.v1",
        "incident.status_changed.v1",
        "incident.status_changed.v1",
        "incident.status_changed.v1",
        "incident.resolved.v1",
        "incident.closed.v1",
    ]
    assert f.uow.committed == 7
    kept = await stored(f, incident.id)
    assert kept.status is IncidentStatus.CLOSED and kept.closed_by is ClosedBy.CALLER_CONFIRMED
    assert kept.version == done.version == 7 and kept.closed_at == T0 + timedelta(minutes=300)
    [assigned] = f.sink.of_type(contracts.IncidentAssigned)
    assert (assigned.assignment_group, assigned.assignee, assigned.previous_status) == ("network", "ivan", "new")
    held = f.sink.of_type(contracts.IncidentStatusChanged)[1]
    assert (held.status, held.hold_reason) == ("on_hold", "awaiting_caller")

    [resolution] = f.sink.of_type(contracts.IncidentResolved)
    assert (resolution.resolution_code, resolution.resolved_at) == ("fixed", T0 + timedelta(minutes=240))
    assert resolution.first_response_at == T0 + timedelta(minutes=10) and resolution.opened_at == T0
    by_target = {r.target: r for r in resolution.sla}
    # Responded after 10 minutes; resolved after 4 hours, 2 of them on hold (paused).
    assert (by_target["response"].elapsed_business_s, by_target["response"].met) == (600, True)
    assert (by_target["resolution"].elapsed_business_s, by_target["resolution"].met) == (2 * HOUR, True)
    assert {r.policy_id for r in resolution.sla} == {p2.id}
    assert by_target["resolution"].target_business_s == 4 * HOUR
    assert by_target["resolution"].due_at == T0 + timedelta(hours=6)  # 4 h target + 2 h on hold
    clocks = f.clocks.clocks_of_ticket(incident.id)
    assert {t: c.clock.state for t, c in clocks.items()} == {
        "response": ClockState.STOPPED,
        "resolution": ClockState.STOPPED,
    }
    assert clocks["resolution"].clock.pauses == 1 and clocks["resolution"].ticket.assignment_group == "network"
    assert ("assign", "assignment_group") in f.incidents.history_of(incident.id)
    assert ("close", "status") in f.incidents.history_of(incident.id)


async def test_a_late_resolution_reports_its_target_missed() -> None:
    f = fakes(policies=(policy(2, response_s=HOUR, resolution_s=2 * HOUR),))
    incident = await resolved(f, minutes=150)
    [resolution] = f.sink.of_type(contracts.IncidentResolved)
    assert {r.target: (r.elapsed_business_s, r.met) for r in resolution.sla} == {
        "response": (150 * 60, False),
        "resolution": (150 * 60, False),
    }
    assert resolution.incident_id == incident.id


async def test_a_priority_change_retargets_the_clocks() -> None:
    p1, p2 = policy(1, response_s=600, resolution_s=HOUR), policy(2)
    f = fakes(policies=(p1, p2))
    incident = await opened(f)
    with at(20):
        changed = await usecases.update_incident(
            act(incident.id), f.uow, values={"impact": Impact.HIGH}, matrix=DEFAULT_PRIORITY_MATRIX
        )
    assert changed.priority == 1
    [priority] = f.sink.of_type(contracts.IncidentPriorityChanged)
    assert (priority.priority, priority.previous_priority, priority.override) == (1, 2, False)
    clocks = f.clocks.clocks_of_ticket(incident.id)
    assert {c.clock.policy_id for c in clocks.values()} == {p1.id}
    assert clocks["resolution"].clock.due_at == T0 + timedelta(hours=1) and clocks["resolution"].ticket.priority == 1


async def test_a_title_edit_is_saved_in_the_history_and_publishes_nothing() -> None:
    f = fakes()
    incident = await opened(f)
    f.sink.clear()
    with at(1):
        edited = await usecases.update_incident(
            act(incident.id), f.uow, values={"title": "VPN down in Lyon"}, matrix=DEFAULT_PRIORITY_MATRIX
        )
    assert (await stored(f, incident.id)).title == "VPN down in Lyon" and edited.version == 2
    assert len(f.sink) == 0 and f.uow.committed == 2
    assert f.incidents.history_of(incident.id) == [("update", "title")]


async def test_overriding_the_priority_publishes_an_override() -> None:
    f = fakes()
    incident = await opened(f)
    with at(1):
        await usecases.override_priority(act(incident.id), f.uow, priority=4, reason="one user only")
    kept = await stored(f, incident.id)
    assert (kept.priority, kept.priority_override_reason) == (4, "one user only")
    [priority] = f.sink.of_type(contracts.IncidentPriorityChanged)
    assert (priority.priority, priority.previous_priority, priority.override, priority.reason) == (
        4,
        2,
        True,
        "one user only",
    )


async def test_a_functional_escalation_reassigns_and_publishes_it() -> None:
    f = fakes()
    incident = await opened(f)
    with at(1):
        await usecases.assign_incident(act(incident.id), f.uow, group="desk", assignee="ann")
    with at(2):
        await usecases.escalate_incident(act(incident.id), f.uow, kind="functional", to_group="network", reason="L2")
    kept = await stored(f, incident.id)
    assert (kept.assignment_group, kept.assignee) == ("network", None)
    [escalated] = f.sink.of_type(contracts.IncidentEscalated)
    assert (escalated.kind, escalated.trigger, escalated.from_group, escalated.to_group) == (
        "functional",
        "manual",
        "desk",
        "network",
    )


async def test_cancelling_cancels_the_clocks() -> None:
    f = fakes(policies=(policy(2),))
    incident = await opened(f)
    with at(3):
        await usecases.cancel_incident(act(incident.id), f.uow, reason="duplicate")
    assert (await stored(f, incident.id)).status is IncidentStatus.CANCELLED
    assert f.sink.routing_keys[-1] == "incident.status_changed.v1"
    assert {c.clock.state for c in f.clocks.clocks_of_ticket(incident.id).values()} == {ClockState.CANCELLED}


# ---------------------------------------------------------------------------- refusals


async def test_a_refused_action_commits_nothing_and_publishes_nothing() -> None:
    f = fakes(policies=(policy(2),))
    incident = await opened(f)
    before, clocks_before = await stored(f, incident.id), f.clocks.clocks.values()

    with pytest.raises(InvalidTransition), at(1):
        await usecases.close_incident(act(incident.id), f.uow)  # a new incident is not resolved
    with pytest.raises(RuleViolation), at(1):
        await usecases.assign_incident(act(incident.id), f.uow, group=" ", assignee=None)
    with pytest.raises(PreconditionFailed), at(1):
        await usecases.start_work(act(incident.id, version=7), f.uow)
    with pytest.raises(NotFound), at(1):
        await usecases.start_work(act(uuid4()), f.uow)

    assert await stored(f, incident.id) == before and f.clocks.clocks.values() == clocks_before
    assert f.uow.committed == 1 and f.sink.routing_keys == ["incident.created.v1"]
    assert f.incidents.history.values() == []


async def test_a_version_read_before_someone_elses_action_is_refused() -> None:
    f = fakes()
    incident = await opened(f)
    with at(1):
        await usecases.assign_incident(act(incident.id, version=1), f.uow, group="desk", assignee=None)
    with pytest.raises(PreconditionFailed), at(2):
        await usecases.assign_incident(act(incident.id, version=1), f.uow, group="network", assignee=None)
    assert (await stored(f, incident.id)).assignment_group == "desk" and f.uow.committed == 2


async def test_nothing_happens_before_the_incident_was_recorded() -> None:
    f = fakes()
    incident = await opened(f, 10)
    with pytest.raises(RuleViolation), at(9):
        await usecases.start_work(act(incident.id), f.uow)
    assert f.uow.committed == 1


# ---------------------------------------------------------------------------- reopen window


@pytest.mark.parametrize(("after", "allowed"), [(timedelta(days=2), True), (timedelta(days=2, seconds=1), False)])
async def test_reopening_is_allowed_up_to_the_window_edge(after: timedelta, allowed: bool) -> None:
    f = fakes(policies=(policy(2),))
    incident = await resolved(f, minutes=30)
    window = timedelta(days=2)

    with clock.occurring_at(T0 + timedelta(minutes=30) + after):
        if allowed:
            reopened = await usecases.reopen_incident(act(incident.id), f.uow, reason="back again", window=window)
        else:
            with pytest.raises(InvalidTransition):
                await usecases.reopen_incident(act(incident.id), f.uow, reason="back again", window=window)

    kept = await stored(f, incident.id)
    if allowed:
        assert kept.status is IncidentStatus.IN_PROGRESS and kept.resolved_at is None and reopened.version == 3
        assert f.sink.routing_keys[-1] == "incident.reopened.v1"
        assert f.clocks.clocks_of_ticket(incident.id)["resolution"].clock.state is ClockState.RUNNING
    else:
        assert kept.status is IncidentStatus.RESOLVED and f.uow.committed == 2
        assert f.sink.routing_keys[-1] == "incident.resolved.v1"


# ---------------------------------------------------------------------------- major incidents


async def test_a_major_incident_closes_only_once_its_review_is_recorded() -> None:
    f = fakes()
    incident = await opened(f)
    with at(1):
        await usecases.declare_major(act(incident.id), f.uow, manager="maria", reason="whole site")
    [major] = f.sink.of_type(contracts.IncidentMajorDeclared)
    assert (major.manager, major.declared_at, major.major) == ("maria", T0 + timedelta(minutes=1), True)
    with at(30):
        await usecases.resolve_incident(act(incident.id), f.uow, code="fixed", notes="")
    published = len(f.sink)

    with pytest.raises(Conflict) as refused, at(40):
        await usecases.close_incident(act(incident.id), f.uow)
    assert refused.value.extensions["missing"] == ["review"]
    assert (await stored(f, incident.id)).status is IncidentStatus.RESOLVED and len(f.sink) == published

    with at(50):
        await usecases.record_review(
            act(incident.id, "maria"),
            f.uow,
            summary="cert expired",
            root_cause="no alerting",
            lessons="alert on expiry",
            actions=["x"],
        )
    assert len(f.sink) == published  # the review has no contract: committed, nothing published
    review = (await stored(f, incident.id)).review
    assert review is not None and (review.recorded_by, review.actions) == ("maria", ("x",))
    with at(60):
        closed = await usecases.close_incident(act(incident.id), f.uow)
    assert closed.status is IncidentStatus.CLOSED and f.sink.routing_keys[-1] == "incident.closed.v1"


# ---------------------------------------------------------------------------- notes and auto-close


async def test_a_note_is_kept_without_a_new_version_or_an_event() -> None:
    f = fakes()
    incident = await opened(f)
    with at(1):
        same, note = await usecases.add_note(
            act(incident.id, "ann"), f.uow, text="called bob", visibility=NoteVisibility.INTERNAL
        )
    assert same.version == (await stored(f, incident.id)).version == 1
    assert [(n.text, n.author, n.at) for n in f.incidents.notes.values()] == [("called bob", "ann", note.at)]
    assert f.uow.committed == 2 and f.sink.routing_keys == ["incident.created.v1"]


async def test_the_auto_close_job_closes_what_waited_long_enough_but_not_a_major_incident_without_review() -> None:
    f = fakes()
    waited = await resolved(f, minutes=0)
    major = await opened(f)
    with at(1):
        await usecases.declare_major(act(major.id), f.uow, manager="maria")
        await usecases.resolve_incident(act(major.id), f.uow, code="fixed", notes="")
    late = await resolved(f, minutes=60)
    f.sink.clear()

    now = T0 + DEFAULT_POLICY.auto_close_after + timedelta(minutes=1)
    closed = await usecases.close_resolved_incidents(f.uow, DEFAULT_POLICY, now, batch=10)

    assert closed == 1
    assert [(await stored(f, i.id)).status for i in (waited, major, late)] == [
        IncidentStatus.CLOSED,
        IncidentStatus.RESOLVED,
        IncidentStatus.RESOLVED,
    ]
    [event] = f.sink.of_type(contracts.IncidentClosed)
    assert (event.incident_id, event.actor) == (waited.id, "auto-close")
    assert (await stored(f, waited.id)).closed_by is ClosedBy.AUTO_CLOSED


# ---------------------------------------------------------------------------- service requests

LAPTOP = CatalogueItem(uuid4(), "Laptop", "", SERVICE, True, "it_approver", "desktop", default_priority=3)


async def test_a_request_waits_for_its_approver_and_fulfilled_carries_the_sla_results() -> None:
    p3 = policy(3, kind=TicketKind.REQUEST)
    f = fakes(policies=(p3,), catalogue=(LAPTOP,))
    with at(0):
        request = await requests.submit_request(requests.SubmitRequest(LAPTOP.id, "rita"), f.uow)
    assert (request.number, request.title, request.priority, request.assignment_group) == (
        "REQ0000001",
        "Laptop",
        3,
        "desktop",
    )
    assert {c.clock.state for c in f.clocks.clocks_of_ticket(request.id).values()} == {ClockState.PAUSED}

    with pytest.raises(Forbidden), at(30):  # separation of duties
        await requests.approve_request(requests.Act(request.id, "rita", {"it_approver"}), f.uow)
    assert f.uow.committed == 1 and f.sink.routing_keys == ["request.submitted.v1"]

    with at(60):
        await requests.approve_request(requests.Act(request.id, "paul", {"it_approver"}, 1), f.uow)
    with at(70):
        await requests.start_fulfilment(requests.Act(request.id, "dan"), f.uow)
    with at(130):
        done = await requests.fulfil_request(requests.Act(request.id, "dan"), f.uow, notes="handed over")

    assert f.sink.routing_keys == [
        "request.submitted.v1",
        "request.approved.v1",
        "request.fulfilment_started.v1",
        "request.fulfilled.v1",
    ]
    stored_request = await f.requests.get(request.id)
    assert stored_request is not None and stored_request.status == done.status and stored_request.version == 4
    [fulfilled] = f.sink.of_type(contracts.RequestFulfilled)
    assert fulfilled.fulfilled_at == T0 + timedelta(minutes=130)
    # Both clocks waited (paused) for the approver; response stopped when fulfilment started.
    assert {r.target: (r.elapsed_business_s, r.met, r.policy_id) for r in fulfilled.sla} == {
        "response": (600, True, p3.id),
        "resolution": (70 * 60, True, p3.id),
    }


async def test_a_request_for_an_unknown_item_is_refused_and_nothing_is_written() -> None:
    f = fakes(policies=(policy(4, kind=TicketKind.REQUEST),))
    with pytest.raises(RuleViolation) as refused, at(0):
        await requests.submit_request(requests.SubmitRequest(uuid4(), "rita"), f.uow)
    assert refused.value.extensions["errors"][0]["field"] == "catalogue_item_id"
    assert f.requests.rows.values() == [] and f.uow.committed == 0 and len(f.sink) == 0
