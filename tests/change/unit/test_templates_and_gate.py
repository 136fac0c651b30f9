"""Standard change templates read back (what creating and editing keep and record, which service a
template covers) and the deployment gate at its edges: windows and blackouts that open or close
now, the order of open changes, and what each answer names (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.change.domain.deployments import Environment
from services.change.domain.gate import ActiveBlackout, OpenChange, change_for_deployment, gate
from services.change.domain.templates import ChangeTemplate
from shared.errors import RuleViolation

T0 = datetime(2031, 5, 6, 12, tzinfo=UTC)
TEMPLATE_ID, SERVICE, OTHER_SERVICE = UUID(int=21), UUID(int=100), UUID(int=101)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def fields(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "checkout deploy",
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
        **overrides,
    }


def template(**overrides: Any) -> ChangeTemplate:
    return ChangeTemplate.create(template_id=TEMPLATE_ID, actor="mike", now=T0, **fields(**overrides))


def refused_field(refused: pytest.ExceptionInfo[RuleViolation]) -> str:
    assert isinstance(refused.value.detail, str) and refused.value.detail
    (error,) = refused.value.extensions["errors"]
    return str(error["field"])


# ----------------------------------------------------------------------------------------- templates


def test_creating_a_template_keeps_its_fields_trimmed_with_its_author_time_and_first_version() -> None:
    made = ChangeTemplate.create(
        template_id=TEMPLATE_ID,
        actor="olga",
        now=at(1),
        **fields(
            name="  checkout deploy ",
            implementation_plan=" run the pipeline ",
            backout_plan=" redeploy ",
            pipeline_names=[" Acme/Checkout ", "acme/checkout", " "],
            default_duration=timedelta(days=7),  # the longest allowed
        ),
    )
    assert (made.id, made.created_by, made.created_at, made.updated_at, made.version) == (
        TEMPLATE_ID,
        "olga",
        at(1),
        at(1),
        1,
    )
    assert (made.name, made.implementation_plan, made.backout_plan) == (
        "checkout deploy",
        "run the pipeline",
        "redeploy",
    )
    assert made.pipeline_names == ("acme/checkout",)
    assert made.default_duration == timedelta(days=7)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": " "}, "name"),
        ({"implementation_plan": ""}, "implementation_plan"),
        ({"backout_plan": " "}, "backout_plan"),
        ({"default_duration": timedelta(0)}, "default_duration"),
        ({"default_duration": timedelta(days=7, seconds=1)}, "default_duration"),
    ],
)
def test_a_template_that_breaks_a_rule_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        template(**overrides)
    assert refused_field(refused) == field


def test_editing_a_template_changes_only_the_fields_given_checked_and_records_version_and_time() -> None:
    item = template()
    item.update(at(5), name="  checkout deploy v2 ", pipeline_names=["Acme/Checkout"], active=False)
    assert (item.name, item.pipeline_names, item.active) == ("checkout deploy v2", ("acme/checkout",), False)
    assert (item.implementation_plan, item.backout_plan) == ("run the pipeline", "redeploy the previous version")
    assert (item.version, item.updated_at, item.created_at) == (2, at(5), T0)
    item.update(at(6), description="the usual deploy")  # no name, no plans given: none is asked for
    assert (item.description, item.name, item.version) == ("the usual deploy", "checkout deploy v2", 3)
    with pytest.raises(RuleViolation) as refused:
        item.update(at(7), implementation_plan=" ")
    assert refused_field(refused) == "implementation_plan"
    assert (item.implementation_plan, item.version) == ("run the pipeline", 3)


def test_a_template_covers_its_own_service_or_pipeline_names_and_only_while_active() -> None:
    by_id = template(service_id=SERVICE)
    assert by_id.covers(service_id=SERVICE, service_name=None)
    assert not by_id.covers(service_id=OTHER_SERVICE, service_name=None)
    by_name = template(pipeline_names=["acme/checkout"])
    assert by_name.covers(service_id=None, service_name=" ACME/Checkout")
    assert not by_name.covers(service_id=None, service_name="acme/mail")
    assert not by_name.covers(service_id=None, service_name=None)
    retired = template(service_id=SERVICE, active=False)
    assert not retired.covers(service_id=SERVICE, service_name=None)


# ----------------------------------------------------------------------------------------------- gate


def test_a_template_pre_approves_changes_to_its_own_service_only_and_nothing_once_retired() -> None:
    service, other, third = sorted([uuid4(), uuid4(), uuid4()])
    scoped = template(service_id=service)
    assert scoped.out_of_scope([]) == [] and scoped.out_of_scope([service, service]) == []
    [(field, reason)] = scoped.out_of_scope([third, service, other])
    assert field == "service_ids"
    assert reason == (
        f"the template 'checkout deploy' pre-approves changes to service {service} only,"
        f" not to {other}, {third}: raise a normal change"
    )
    assert template(service_id=None).out_of_scope([other]) == []
    assert template(service_id=service, active=False).out_of_scope([service]) == [
        ("template_id", "the template 'checkout deploy' is retired: it pre-approves nothing")
    ]


def open_change(number: str, start: datetime, end: datetime, *cis: UUID) -> OpenChange:
    return OpenChange(uuid4(), number, "scheduled", start, end, frozenset(cis))


def ask(**kw: Any) -> Any:
    args: dict[str, Any] = {
        "service_id": SERVICE,
        "service_name": None,
        "environment": Environment.PRODUCTION,
        "gated": True,
        "now": T0,
        "changes": [],
        "templates": [],
        "blackouts": [],
        **kw,
    }
    return gate(**args)


def test_an_environment_not_under_change_control_is_allowed_saying_so() -> None:
    answer = ask(environment=Environment.STAGING, gated=False)
    assert answer.allowed and answer.change is None and answer.template is None
    (reason,) = answer.reasons
    assert "staging" in reason


def test_a_window_opening_now_authorises_and_the_earliest_open_change_is_named() -> None:
    later = open_change("CHG0000002", at(-30), at(60))
    earliest = open_change("CHG0000003", at(-60), at(60))
    same_start = open_change("CHG0000001", at(-60), at(60))
    answer = ask(changes=[later, earliest, same_start])
    assert answer.allowed and answer.change == same_start  # the earliest start, then the lowest number
    assert "CHG0000001" in answer.reasons[0]
    opening_now = open_change("CHG0000004", T0, at(60))
    assert ask(changes=[opening_now]).change == opening_now


def test_an_open_change_is_the_authority_even_when_a_template_would_cover_the_service() -> None:
    window = open_change("CHG0000001", at(-10), at(10))
    answer = ask(changes=[window], templates=[template(service_id=SERVICE)])
    assert (answer.change, answer.template) == (window, None)


def test_a_template_naming_the_pipelines_service_name_authorises_saying_which() -> None:
    covering = template(pipeline_names=["acme/checkout"])
    answer = ask(service_id=None, service_name="acme/checkout", templates=[covering])
    assert answer.allowed and answer.template is covering
    assert "checkout deploy" in answer.reasons[0] and "acme/checkout" in answer.reasons[0]


@pytest.mark.parametrize(
    ("service_id", "service_name", "label"),
    [(SERVICE, "acme/checkout", "acme/checkout"), (SERVICE, None, str(SERVICE))],
)
def test_a_refusal_names_the_service_by_name_or_else_by_id(
    service_id: UUID, service_name: str | None, label: str
) -> None:
    answer = ask(service_id=service_id, service_name=service_name)
    assert not answer.allowed
    assert label in answer.reasons[0]


def test_a_blackout_on_the_service_itself_holds_the_deployment_and_one_ending_now_does_not() -> None:
    window = open_change("CHG0000001", at(-10), at(10))
    on_service = ActiveBlackout(uuid4(), "payments freeze", at(-5), at(5), frozenset({SERVICE}))
    held = ask(changes=[window], blackouts=[on_service])
    assert not held.allowed and held.blackouts == (on_service,)
    assert any("payments freeze" in r for r in held.reasons)
    ended = ActiveBlackout(uuid4(), "night freeze", at(-60), T0, frozenset())
    assert ask(changes=[window], blackouts=[ended]).allowed


def test_a_deployment_naming_no_change_goes_on_the_change_whose_window_contains_it() -> None:
    later = open_change("CHG0000002", at(-30), at(60))
    earliest = open_change("CHG0000003", at(-60), at(60))
    assert change_for_deployment([later, earliest], T0) == earliest
    assert change_for_deployment([later, earliest], at(60)) is None  # the window's end is outside it
    assert change_for_deployment([later], at(-45)) is None


def test_a_standard_change_already_implementing_its_own_deployment_takes_no_other() -> None:
    following = OpenChange(uuid4(), "CHG0000004", "implementing", at(-60), at(60), frozenset(), template_id=uuid4())
    approved = OpenChange(uuid4(), "CHG0000005", "approved", at(-30), at(60), frozenset(), template_id=uuid4())
    normal = OpenChange(uuid4(), "CHG0000006", "implementing", at(-10), at(60), frozenset())
    assert change_for_deployment([following, approved, normal], T0) == approved
    assert change_for_deployment([following, normal], T0) == normal
    assert change_for_deployment([following], T0) is None
