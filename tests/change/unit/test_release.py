"""Releases, deployments, templates and the gate as pure domain code: every release transition
allowed and refused, the deployment result moves, the gate's answers with known inputs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.change.domain.changes import Change, ChangeStatus, ChangeType
from services.change.domain.deployments import (
    Deployment,
    DeploymentResult,
    Environment,
    environment_named,
    follow_deployment,
)
from services.change.domain.gate import ActiveBlackout, OpenChange, gate
from services.change.domain.pipeline import github_signature, signature_matches
from services.change.domain.releases import (
    EMERGENCY_SHORTCUTS,
    RELEASE_TRANSITIONS,
    AcceptanceResult,
    Release,
    ReleaseAction,
    ReleaseStatus,
    ReleaseType,
)
from services.change.domain.templates import ChangeTemplate, template_for
from shared.errors import Conflict, InvalidTransition, RuleViolation

NOW = datetime(2031, 5, 6, 12, tzinfo=UTC)
APPROVED_CHANGE = uuid.uuid4()


def _release(status: ReleaseStatus, release_type: ReleaseType = ReleaseType.MINOR, **kw: Any) -> Release:
    item = Release.plan(
        release_id=uuid.uuid4(),
        number="REL0000001",
        name="Checkout 2.4",
        version="2.4.0",
        release_type=release_type,
        service_id=None,
        change_ids=[APPROVED_CHANGE],
        known_error_ids=[],
        planned_date=NOW,
        acceptance_criteria=kw.pop("criteria", ["p95 checkout under 300 ms"]),
        actor="mike",
        now=NOW,
    )
    item.status = status
    item.pending_events.clear()
    return item


def _do(item: Release, action: ReleaseAction) -> None:
    changes = {APPROVED_CHANGE: ("CHG0000001", "scheduled")}
    {
        ReleaseAction.BUILD: lambda: item.build("mike", NOW),
        ReleaseAction.ACCEPT: lambda: item.accept("load test passed", "mike", NOW),
        ReleaseAction.REJECT: lambda: item.reject("p95 was 450 ms", "mike", NOW),
        ReleaseAction.DEPLOY: lambda: item.deploy("mike", NOW, changes),
        ReleaseAction.FAIL: lambda: item.fail("rolled back: errors on payment", "mike", NOW),
        ReleaseAction.CLOSE: lambda: item.close("mike", NOW),
        ReleaseAction.CANCEL: lambda: item.cancel("mike", NOW),
    }[action]()


@pytest.mark.parametrize("status", list(ReleaseStatus))
@pytest.mark.parametrize("action", list(ReleaseAction))
def test_every_release_transition_is_allowed_or_refused_as_the_table_says(
    status: ReleaseStatus, action: ReleaseAction
) -> None:
    item = _release(status)
    target = RELEASE_TRANSITIONS[status].get(action)
    if target is None:
        with pytest.raises(InvalidTransition) as refused:
            _do(item, action)
        assert refused.value.extensions["allowed_actions"] == sorted(a.value for a in RELEASE_TRANSITIONS[status])
        assert item.status is status and item.pending_events == []
    else:
        _do(item, action)
        assert item.status is target
        (moved,) = item.pending_events
        assert (moved.previous, moved.status, moved.action) == (status, target, action)
        # Its retention period (4.3.3) counts from its reaching closed or cancelled, and only that.
        assert item.closed_at == (NOW if target in {ReleaseStatus.CLOSED, ReleaseStatus.CANCELLED} else None)


def test_an_emergency_release_may_deploy_once_built_and_a_normal_one_may_not() -> None:
    assert EMERGENCY_SHORTCUTS[ReleaseStatus.BUILT] == {ReleaseAction.DEPLOY: ReleaseStatus.DEPLOYED}
    emergency = _release(ReleaseStatus.BUILT, ReleaseType.EMERGENCY)
    assert "deploy" in emergency.allowed_actions()
    _do(emergency, ReleaseAction.DEPLOY)
    assert emergency.status is ReleaseStatus.DEPLOYED and emergency.deployed_at == NOW
    with pytest.raises(InvalidTransition):
        _do(_release(ReleaseStatus.BUILT, ReleaseType.MAJOR), ReleaseAction.DEPLOY)


def test_acceptance_needs_agreed_criteria_and_records_the_result() -> None:
    with pytest.raises(RuleViolation) as no_criteria:
        _do(_release(ReleaseStatus.BUILT, criteria=[]), ReleaseAction.ACCEPT)
    assert no_criteria.value.extensions["errors"][0]["field"] == "acceptance_criteria"
    accepted = _release(ReleaseStatus.BUILT)
    _do(accepted, ReleaseAction.ACCEPT)
    assert (accepted.acceptance_result, accepted.acceptance_by) == (AcceptanceResult.PASSED, "mike")
    rejected = _release(ReleaseStatus.BUILT)
    _do(rejected, ReleaseAction.REJECT)
    assert rejected.acceptance_result is AcceptanceResult.FAILED
    assert rejected.allowed_actions() == ["build", "cancel"]


def test_a_release_with_an_unapproved_change_is_not_deployed() -> None:
    item = _release(ReleaseStatus.ACCEPTED)
    with pytest.raises(Conflict) as refused:
        item.deploy("mike", NOW, {APPROVED_CHANGE: ("CHG0000001", "assessed")})
    assert refused.value.extensions["unapproved_changes"] == ["CHG0000001 is assessed"]
    assert item.status is ReleaseStatus.ACCEPTED


def _deployment(result: DeploymentResult) -> Deployment:
    return Deployment.record(
        deployment_id=uuid.uuid4(),
        service="acme/checkout",
        service_id=None,
        environment=Environment.PRODUCTION,
        version="2.4.0",
        result=result,
        started_at=NOW - timedelta(minutes=5),
        finished_at=None,
        source="github",
        recorded_by="github",
        now=NOW,
    )


def test_deployment_results_move_forward_and_stale_or_repeated_statuses_change_nothing() -> None:
    running = _deployment(DeploymentResult.IN_PROGRESS)
    assert running.finished_at is None
    assert running.report(DeploymentResult.SUCCEEDED, NOW + timedelta(minutes=1)) is True
    assert running.finished_at == NOW + timedelta(minutes=1)
    assert running.report(DeploymentResult.SUCCEEDED, NOW) is False
    assert running.report(DeploymentResult.IN_PROGRESS, NOW) is False  # late, stale
    running.roll_back("reverted to 2.3.9", NOW)
    assert running.result is DeploymentResult.ROLLED_BACK
    with pytest.raises(InvalidTransition):
        running.report(DeploymentResult.SUCCEEDED, NOW)
    verified = _deployment(DeploymentResult.SUCCEEDED)
    verified.verify("smoke test: checkout returns 500", passed=False, now=NOW)
    assert verified.result is DeploymentResult.FAILED
    with pytest.raises(RuleViolation):
        Deployment.record(
            deployment_id=uuid.uuid4(),
            service="x",
            service_id=None,
            environment=Environment.TEST,
            version=None,
            result=DeploymentResult.SUCCEEDED,
            started_at=NOW,
            finished_at=NOW - timedelta(seconds=1),
            source="api",
            recorded_by="mike",
            now=NOW,
        )


def test_environments_are_named_the_way_pipelines_name_them() -> None:
    assert environment_named("Prod") is Environment.PRODUCTION
    assert environment_named("stage") is Environment.STAGING
    with pytest.raises(RuleViolation) as unknown:
        environment_named("github-pages")
    assert unknown.value.extensions["errors"][0]["field"] == "environment"


def _template(name: str, **kw: Any) -> ChangeTemplate:
    fields: dict[str, Any] = {
        "name": name,
        "description": "",
        "category": "software",
        "service_id": None,
        "pipeline_names": (),
        "implementation_plan": "run the pipeline",
        "backout_plan": "redeploy the previous version",
        "test_plan": "",
        "default_duration": timedelta(hours=1),
        "active": True,
        "pipeline_default": False,
        **kw,
    }
    return ChangeTemplate.create(template_id=uuid.uuid4(), actor="mike", now=NOW, **fields)


def test_a_template_needs_its_plans_and_names_services_case_insensitively() -> None:
    with pytest.raises(RuleViolation) as no_backout:
        _template("x", backout_plan=" ")
    assert no_backout.value.extensions["errors"][0]["field"] == "backout_plan"
    with pytest.raises(RuleViolation):
        _template("x", default_duration=timedelta(days=8))
    service = uuid.uuid4()
    checkout = _template("checkout", service_id=service, pipeline_names=["Acme/Checkout"])
    default = _template("any pipeline", pipeline_default=True)
    retired = _template("old", pipeline_names=["acme/mail"], active=False)
    templates = [retired, default, checkout]
    assert template_for(templates, service_id=None, service_name="acme/checkout") is checkout
    assert template_for(templates, service_id=service, service_name=None) is checkout
    assert template_for(templates, service_id=None, service_name="acme/mail") is default  # retired: not used
    assert template_for([retired, checkout], service_id=None, service_name="acme/mail") is None


def _change(template_id: uuid.UUID | None, change_type: ChangeType = ChangeType.STANDARD) -> Change:
    item = Change.draft(
        change_id=uuid.uuid4(),
        number="CHG0000009",
        title="Deploy",
        description="",
        justification="",
        change_type=change_type,
        category=None,
        requester="github",
        planned_start=NOW,
        planned_end=NOW + timedelta(hours=1),
        affected_ci_ids=[],
        now=NOW,
        template_id=template_id,
    )
    item.submit("github", NOW, pre_approved=True)
    return item


def test_a_standard_change_follows_its_deployment_and_other_changes_are_only_linked() -> None:
    standard = _change(uuid.uuid4())
    assert standard.status is ChangeStatus.APPROVED
    follow_deployment(standard, DeploymentResult.IN_PROGRESS, "github", NOW)
    assert standard.status is ChangeStatus.IMPLEMENTING
    follow_deployment(standard, DeploymentResult.SUCCEEDED, "github", NOW)
    assert standard.status is ChangeStatus.IMPLEMENTED
    failed = _change(uuid.uuid4())
    follow_deployment(failed, DeploymentResult.FAILED, "github", NOW)
    assert failed.status is ChangeStatus.FAILED and "failed" in failed.notes
    untemplated = _change(None)
    follow_deployment(untemplated, DeploymentResult.SUCCEEDED, "github", NOW)
    assert untemplated.status is ChangeStatus.SUBMITTED  # no template: not pre-approved, and not followed
    with pytest.raises(RuleViolation):
        _change(uuid.uuid4(), ChangeType.NORMAL)  # a change from a template is a standard change


SERVICE = uuid.uuid4()


def _open(start: datetime, hours: float, cis: frozenset[uuid.UUID] = frozenset()) -> OpenChange:
    return OpenChange(uuid.uuid4(), "CHG0000042", "scheduled", start, start + timedelta(hours=hours), cis)


def _ask(**kw: Any) -> Any:
    args: dict[str, Any] = {
        "service_id": SERVICE,
        "service_name": None,
        "environment": Environment.PRODUCTION,
        "gated": True,
        "now": NOW,
        "changes": [],
        "templates": [],
        "blackouts": [],
        **kw,
    }
    return gate(**args)


def test_the_gate_answers_with_known_inputs() -> None:
    window = _open(NOW - timedelta(hours=1), 2)
    yes = _ask(changes=[window])
    assert yes.allowed and yes.change == window and "CHG0000042" in yes.reasons[0]
    assert not _ask(changes=[_open(NOW + timedelta(minutes=1), 2)]).allowed  # not open yet
    assert not _ask(changes=[_open(NOW - timedelta(hours=2), 2)]).allowed  # closed at NOW (end exclusive)
    freeze = ActiveBlackout(uuid.uuid4(), "Black Friday", NOW - timedelta(days=1), NOW + timedelta(days=1), frozenset())
    no = _ask(changes=[window], blackouts=[freeze])
    assert not no.allowed and no.blackouts == (freeze,)
    assert any("Black Friday" in r for r in no.reasons)
    other_ci = ActiveBlackout(uuid.uuid4(), "DB", NOW, NOW + timedelta(hours=1), frozenset({uuid.uuid4()}))
    assert _ask(changes=[window], blackouts=[other_ci]).allowed  # the blackout covers something else
    own_ci = uuid.uuid4()
    on_its_ci = ActiveBlackout(uuid.uuid4(), "DB", NOW, NOW + timedelta(hours=1), frozenset({own_ci}))
    assert not _ask(changes=[_open(NOW, 1, frozenset({own_ci}))], blackouts=[on_its_ci]).allowed
    template = _template("checkout", service_id=SERVICE)
    by_template = _ask(templates=[template])
    assert by_template.allowed and by_template.template is template
    assert not _ask(templates=[template], blackouts=[freeze]).allowed
    nothing = _ask()
    assert not nothing.allowed and "no approved change" in nothing.reasons[0]
    assert _ask(environment=Environment.TEST, gated=False, blackouts=[freeze]).allowed


def test_the_github_signature_is_checked_on_the_exact_bytes() -> None:
    # GitHub's own example ("Validating webhook deliveries"): this secret, this payload, this header.
    known = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert github_signature("It's a Secret to Everybody", b"Hello, World!") == known
    body = b'{"zen": "Keep it logically awesome."}'
    header = github_signature("It's a Secret to Everybody", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert signature_matches("It's a Secret to Everybody", body, header)
    assert not signature_matches("It's a Secret to Everybody", body + b" ", header)
    assert not signature_matches("another secret", body, header)
    assert not signature_matches("It's a Secret to Everybody", body, None)
