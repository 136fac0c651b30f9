"""The change use cases through a fake unit of work: state kept, events published on commit only,
a refused action commits and publishes nothing (no database, no broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.change.domain.cab import Risk
from services.change.domain.changes import Change, ChangeStatus, ChangeType, CmdbOutcome, IncidentLink
from services.change.domain.risk import ImpactFacts
from services.change.domain.schedule import Blackout
from services.change.usecases import cab, schedule
from services.change.usecases import changes as usecases
from services.change.usecases.changes import Act, DraftChange
from shared import clock
from shared.ci_read_model import CIRecord
from shared.errors import Conflict, Forbidden, InvalidTransition, NotFound, PreconditionFailed, RuleViolation
from shared.events import change as contracts
from shared.testing import FakeUnitOfWork
from tests.change.fakes import fake_unit_of_work

MANAGER = frozenset({"change_manager"})
CAB = frozenset({"cab_member"})
ENGINEER = frozenset({"change_engineer"})
CI = uuid4()
SERVICE = uuid4()
START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)


class NoImpact:
    async def impact_of(self, ci_ids: object) -> ImpactFacts | None:
        return ImpactFacts(reached_cis=0, business_services=0, most_critical=None)


def draft(**overrides: object) -> DraftChange:
    values: dict[str, object] = {
        "title": "Patch the mail relays",
        "requester": "rita",
        "justification": "security fix",
        "planned_start": START,
        "planned_end": START + timedelta(hours=2),
        "affected_ci_ids": (CI,),
        "backout_plan": "reinstall the previous package",
    }
    values.update(overrides)
    return DraftChange(**values)  # type: ignore[arg-type]


def act(change_id: UUID, actor: str = "mike", roles: frozenset[str] = MANAGER, version: int | None = None) -> Act:
    return Act(change_id, actor, roles, version)


def ci(ci_id: UUID = CI, *, type_: str = "server", status: str = "live", service: UUID | None = SERVICE) -> CIRecord:
    return CIRecord(ci_id, "CI0000001", "mail relay", type_, status, 2, service, None, 1)


async def drafted(uow: FakeUnitOfWork, **overrides: object) -> Change:
    return await usecases.draft_change(draft(**overrides), uow)


async def approved(uow: FakeUnitOfWork, **overrides: object) -> Change:
    item = await drafted(uow, **overrides)
    await usecases.submit(act(item.id, "rita", ENGINEER), uow)
    await cab.assess(act(item.id, "ann"), Risk.LOW, uow, NoImpact())
    return await cab.decide(act(item.id), approve=True, comment="ok", uow=uow)


async def test_drafting_stores_the_change_and_publishes_its_creation_on_commit() -> None:
    uow, repo, sink = fake_unit_of_work(cis=[ci()])

    item = await drafted(uow)

    stored = await repo.get(item.id)
    assert stored is not None and stored.status is ChangeStatus.DRAFT and stored.number == "CHG0000001"
    assert stored.service_ids == (SERVICE,)  # the service of its CI, from the read model
    assert uow.committed == 1
    [created] = sink.of_type(contracts.ChangeCreated)
    assert (created.change_id, created.status, created.service_ids) == (item.id, "draft", [SERVICE])
    assert [e.subject for e in sink] == [str(item.id)]


async def test_a_change_on_an_unknown_or_retired_ci_is_refused_and_nothing_is_written() -> None:
    retired = uuid4()
    uow, repo, sink = fake_unit_of_work(cis=[ci(), ci(retired, status="retired")])

    with pytest.raises(RuleViolation) as refused:
        await drafted(uow, affected_ci_ids=(uuid4(), retired))

    assert [e["field"] for e in refused.value.extensions["errors"]] == ["affected_ci_ids.0", "affected_ci_ids.1"]
    assert repo.rows.values() == [] and uow.committed == 0 and len(sink) == 0


async def test_the_normal_lifecycle_publishes_each_step_in_order() -> None:
    uow, repo, sink = fake_unit_of_work(cis=[ci()])
    item = await approved(uow)
    await schedule.schedule(act(item.id), uow)
    await usecases.start(act(item.id, "ivan", ENGINEER), uow)
    await usecases.complete(act(item.id, "ivan", ENGINEER), uow)
    await usecases.review(act(item.id), "went fine", uow)
    done = await usecases.close(act(item.id), uow)

    assert done.status is ChangeStatus.CLOSED
    stored = await repo.get(item.id)
    assert stored is not None and stored.status is ChangeStatus.CLOSED and stored.version == done.version == 9
    assert stored.pir is not None and stored.pir.outcome == "went fine"
    assert sink.routing_keys == [
        "change.created.v1",
        "change.submitted.v1",
        "change.assessed.v1",
        "change.approved.v1",
        "change.scheduled.v1",
        "change.implementing.v1",
        "change.implemented.v1",
        "change.reviewed.v1",
        "change.closed.v1",
    ]
    assert uow.committed == 9
    [implemented] = sink.of_type(contracts.ChangeImplemented)
    assert implemented.implemented_by == "ivan"


async def test_a_standard_change_without_a_template_does_not_approve_on_submit() -> None:
    uow, _, sink = fake_unit_of_work(cis=[ci()])
    item = await drafted(uow, change_type=ChangeType.STANDARD)

    submitted = await usecases.submit(act(item.id, "rita", ENGINEER), uow)

    assert submitted.status is ChangeStatus.SUBMITTED
    assert sink.routing_keys[1:] == ["change.submitted.v1"]


async def test_a_high_risk_change_needs_the_cab_quorum_and_each_member_votes_once() -> None:
    uow, repo, sink = fake_unit_of_work(cis=[ci()])
    item = await drafted(uow)
    await usecases.submit(act(item.id, "rita", ENGINEER), uow)
    await cab.assess(act(item.id, "ann"), Risk.HIGH, uow, NoImpact())
    [assessed] = sink.of_type(contracts.ChangeAssessed)
    assert assessed.risk == "high"
    sink.clear()

    with pytest.raises(Forbidden):  # a change manager alone does not decide a CAB change
        await cab.decide(act(item.id, "mike", MANAGER), approve=True, comment="", uow=uow)
    first = await cab.decide(act(item.id, "carol", CAB), approve=True, comment="fine", uow=uow)
    assert first.status is ChangeStatus.ASSESSED and len(sink) == 0  # the vote is kept, nothing announced
    stored = await repo.get(item.id)
    assert stored is not None and [v.voter for v in stored.votes] == ["carol"]

    committed = uow.committed
    with pytest.raises(Conflict, match="already voted"):
        await cab.decide(act(item.id, "carol", CAB), approve=True, comment="again", uow=uow)
    assert uow.committed == committed and len(sink) == 0

    second = await cab.decide(act(item.id, "dave", CAB), approve=True, comment="go", uow=uow)
    assert second.status is ChangeStatus.APPROVED
    [approval] = sink.of_type(contracts.ChangeApproved)
    assert approval.change_id == item.id and approval.affected_ci_ids == [CI]


async def test_nobody_decides_their_own_change_and_a_rejection_is_published() -> None:
    uow, _, sink = fake_unit_of_work(cis=[ci()])
    item = await drafted(uow)
    await usecases.submit(act(item.id, "rita", ENGINEER), uow)
    await cab.assess(act(item.id, "ann"), Risk.LOW, uow, NoImpact())
    published = len(sink)

    with pytest.raises(Forbidden):
        await cab.decide(act(item.id, "rita", MANAGER), approve=True, comment="mine", uow=uow)
    assert len(sink) == published

    rejected = await cab.decide(act(item.id), approve=False, comment="not now", uow=uow)
    assert rejected.status is ChangeStatus.REJECTED
    [declined] = sink.of_type(contracts.ChangeRejected)
    assert (declined.reason, declined.previous_status) == ("not now", "assessed")


async def test_a_failed_change_is_backed_out_and_its_review_needs_lessons() -> None:
    uow, repo, sink = fake_unit_of_work(cis=[ci()])
    item = await approved(uow)
    await schedule.schedule(act(item.id), uow)
    await usecases.start(act(item.id), uow)

    failed = await usecases.fail(act(item.id), "the relay did not restart", uow)
    assert (failed.status, failed.backed_out) == (ChangeStatus.FAILED, True)
    [event] = sink.of_type(contracts.ChangeFailed)
    assert (event.notes, event.backed_out) == ("the relay did not restart", True)

    committed, published = uow.committed, len(sink)
    with pytest.raises(RuleViolation, match="lessons"):
        await usecases.review(act(item.id), "rolled back", uow)
    assert (uow.committed, len(sink)) == (committed, published)
    stored = await repo.get(item.id)
    assert stored is not None and stored.status is ChangeStatus.FAILED

    await usecases.review(act(item.id), "rolled back", uow, lessons="test the restart")
    [reviewed] = sink.of_type(contracts.ChangeReviewed)
    assert reviewed.lessons == "test the restart"


async def test_cancelling_a_draft_and_refusing_to_cancel_a_closed_change() -> None:
    uow, _, sink = fake_unit_of_work(cis=[ci()])
    item = await drafted(uow)

    cancelled = await usecases.cancel(act(item.id, "rita", ENGINEER), uow)
    assert cancelled.status is ChangeStatus.CANCELLED
    assert sink.routing_keys == ["change.created.v1", "change.cancelled.v1"]

    with pytest.raises(InvalidTransition):
        await usecases.cancel(act(item.id, "rita", ENGINEER), uow)
    assert uow.committed == 2 and len(sink) == 2


async def test_a_stale_version_or_an_unknown_change_is_refused_before_anything_happens() -> None:
    uow, repo, sink = fake_unit_of_work(cis=[ci()])
    item = await drafted(uow)

    with pytest.raises(PreconditionFailed):
        await usecases.submit(act(item.id, "rita", ENGINEER, version=item.version + 1), uow)
    with pytest.raises(NotFound):
        await usecases.submit(act(uuid4(), "rita", ENGINEER), uow)

    stored = await repo.get(item.id)
    assert stored is not None and stored.status is ChangeStatus.DRAFT
    assert uow.committed == 1 and sink.routing_keys == ["change.created.v1"]


async def test_a_blackout_on_its_ci_keeps_the_change_off_the_schedule() -> None:
    blackout = Blackout(uuid4(), "year end", START - timedelta(days=1), START + timedelta(days=1), frozenset({CI}))
    uow, repo, sink = fake_unit_of_work(cis=[ci()], blackouts=[blackout])
    item = await approved(uow)
    published = len(sink)

    with pytest.raises(Conflict, match="year end"):
        await schedule.schedule(act(item.id), uow)

    stored = await repo.get(item.id)
    assert stored is not None and stored.status is ChangeStatus.APPROVED and len(sink) == published


async def test_a_blackout_added_is_seen_by_the_next_schedule_check() -> None:
    uow, _, _ = fake_unit_of_work(cis=[ci()])
    item = await approved(uow)
    await schedule.add_blackout(
        name="freeze", start=START, end=START + timedelta(hours=1), ci_ids=[CI], actor="mike", uow=uow
    )
    with pytest.raises(Conflict, match="freeze"):
        await schedule.schedule(act(item.id), uow)


async def test_the_computed_risk_counts_recent_failures_and_schedule_conflicts_on_its_cis() -> None:
    uow, _, sink = fake_unit_of_work(cis=[ci()])
    for failing in (False, False, True):  # three finished changes on the CI, one failed
        done = await approved(uow)
        await schedule.schedule(act(done.id), uow)
        await usecases.start(act(done.id), uow)
        if failing:
            await usecases.fail(act(done.id), "broke", uow)
        else:
            await usecases.complete(act(done.id), uow)
    await approved(uow)  # on the schedule in the same window, on the same CI
    item = await drafted(uow)
    await usecases.submit(act(item.id, "rita", ENGINEER), uow)
    sink.clear()

    assessed = await cab.assess(act(item.id), None, uow, NoImpact())

    assert "+20 1 of 3 recent changes on these CIs failed" in assessed.risk_reasons
    assert any(r.startswith("+") and "schedule conflict" in r for r in assessed.risk_reasons)
    assert assessed.risk_reasons[-1].startswith("score ")
    [event] = sink.of_type(contracts.ChangeAssessed)
    assert assessed.risk is not None and event.risk == assessed.risk.value


async def test_the_cmdb_outcome_and_incident_links_are_recorded_in_the_consumers_transaction() -> None:
    uow, repo, sink = fake_unit_of_work(cis=[ci()])
    item = await drafted(uow)
    link = IncidentLink(uuid4(), "INC0000007", "probable cause", CI, datetime.now(UTC))

    async with uow:
        await usecases.record_cmdb_outcome(item.id, applied=False, errors=[{"ci": "x"}], uow=uow)
        await usecases.link_incident(item.id, link, uow)
        await usecases.link_incident(item.id, link, uow)  # redelivered: changes nothing
        await usecases.link_incident(uuid4(), link, uow)  # another service's change: ignored
        await usecases.record_cmdb_outcome(uuid4(), applied=True, errors=[], uow=uow)
        await uow.commit()

    stored = await repo.get(item.id)
    assert stored is not None and stored.cmdb_outcome is CmdbOutcome.REJECTED and stored.incidents == (link,)
    assert sink.routing_keys == ["change.created.v1"]


async def test_what_a_use_case_wrote_before_failing_is_rolled_back() -> None:
    uow, repo, _ = fake_unit_of_work(cis=[ci()])
    item = await drafted(uow)
    link = IncidentLink(uuid4(), "INC0000008", "by hand", None, datetime.now(UTC))

    async def consume_and_fail() -> None:
        async with uow:
            await usecases.link_incident(item.id, link, uow)
            raise RuntimeError("consumer failed")

    with pytest.raises(RuntimeError, match="consumer failed"):
        await consume_and_fail()

    stored = await repo.get(item.id)
    assert stored is not None and stored.incidents == ()


async def test_the_backdated_clock_is_what_the_events_carry() -> None:
    uow, _, sink = fake_unit_of_work(cis=[ci()])
    moment = datetime(2026, 11, 28, 9, tzinfo=UTC)
    with clock.occurring_at(moment):
        await drafted(uow, planned_start=None, planned_end=None)
    assert [e.time for e in sink] == [moment]
