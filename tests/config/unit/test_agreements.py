"""Agreements and customers as pure rules: the SLA lifecycle table, immutability of an agreed
version, the approved change that agreeing needs, the targets' checks; a customer's registry rules."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.config.domain.agreements import (
    CHANGE_CONTROLLED,
    TRANSITIONS,
    Agreement,
    AgreementKind,
    AgreementStatus,
    PriorityTarget,
    allowed_actions,
)
from services.config.domain.customers import Contact, Customer, next_review
from services.config.domain.items import ChangeWindow
from shared.errors import Conflict, InvalidTransition, RuleViolation

NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)
SERVICE, OTHER = uuid.uuid4(), uuid.uuid4()


def sla(**changes: object) -> Agreement:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "number": "SLA0000001",
        "document_version": 1,
        "kind": AgreementKind.SLA,
        "title": "Standard",
        "customer_id": uuid.uuid4(),
        "group": None,
        "service_ids": (SERVICE,),
        "targets": (PriorityTarget(1, 15, 240), PriorityTarget(3, 60, 60)),
        "availability_pct": 100.0,
        "calendar": "office",
        "review_date": date(2027, 6, 1),
        "created_at": NOW,
        "created_by": "slm",
        "updated_at": NOW,
    }
    values.update(changes)
    return Agreement(**values)  # type: ignore[arg-type]


def window(status: str = "approved", ci_ids: frozenset[uuid.UUID] = frozenset({SERVICE})) -> ChangeWindow:
    return ChangeWindow(uuid.uuid4(), "CHG0000001", status, NOW - timedelta(hours=1), NOW + timedelta(hours=1), ci_ids)


def field_of(exc: pytest.ExceptionInfo[RuleViolation]) -> list[str]:
    return [e["field"] for e in exc.value.extensions.get("errors", [])] or [exc.value.extensions.get("field", "")]


def test_the_lifecycle_table_and_the_moves_under_change_control() -> None:
    assert TRANSITIONS == {
        (AgreementStatus.DRAFT, "agree"): AgreementStatus.AGREED,
        (AgreementStatus.DRAFT, "retire"): AgreementStatus.RETIRED,
        (AgreementStatus.AGREED, "supersede"): AgreementStatus.SUPERSEDED,
        (AgreementStatus.AGREED, "retire"): AgreementStatus.RETIRED,
    }
    assert {(AgreementStatus.DRAFT, "agree"), (AgreementStatus.AGREED, "retire")} == CHANGE_CONTROLLED
    assert allowed_actions(AgreementStatus.DRAFT) == ["agree", "retire"]
    assert allowed_actions(AgreementStatus.AGREED) == ["retire"]
    assert allowed_actions(AgreementStatus.SUPERSEDED) == [] == allowed_actions(AgreementStatus.RETIRED)


def test_agreeing_needs_an_approved_open_change_naming_every_service() -> None:
    draft = sla(service_ids=(SERVICE, OTHER))
    with pytest.raises(RuleViolation, match="name it in change_number"):
        draft.agree(None, None, NOW, "slm")
    with pytest.raises(RuleViolation, match="not known to the CMDB"):
        draft.agree(None, "CHG0000001", NOW, "slm")
    with pytest.raises(RuleViolation, match=f"does not list this CI.*service {OTHER}"):
        draft.agree(window(), "CHG0000001", NOW, "slm")
    with pytest.raises(RuleViolation, match="not approved"):
        draft.agree(window("draft", frozenset({SERVICE, OTHER})), "CHG0000001", NOW, "slm")
    with pytest.raises(RuleViolation, match="window closed"):
        draft.agree(window(ci_ids=frozenset({SERVICE, OTHER})), "CHG0000001", NOW + timedelta(hours=2), "slm")
    agreed = draft.agree(window(ci_ids=frozenset({SERVICE, OTHER})), "CHG0000001", NOW, "slm")
    assert (agreed.status, agreed.change_number, agreed.agreed_at, agreed.agreed_by) == (
        AgreementStatus.AGREED,
        "CHG0000001",
        NOW,
        "slm",
    )
    assert agreed.version == draft.version + 1 and agreed.updated_at == NOW


def test_an_agreed_version_is_immutable_and_a_new_version_supersedes_it() -> None:
    agreed = sla().agree(window(), "CHG0000001", NOW, "slm")
    with pytest.raises(Conflict, match="immutable"):
        agreed.revised({"availability_pct": 99.0}, NOW)
    with pytest.raises(InvalidTransition):
        agreed.agree(window(), "CHG0000001", NOW, "slm")
    later = NOW + timedelta(days=1)
    draft = agreed.next_version(uuid.uuid4(), later, "sam")
    assert (draft.status, draft.document_version, draft.version, draft.number) == (
        AgreementStatus.DRAFT,
        2,
        1,
        agreed.number,
    )
    assert (draft.change_number, draft.agreed_at, draft.agreed_by, draft.created_by) == (None, None, None, "sam")
    assert draft.targets == agreed.targets and draft.id != agreed.id
    with pytest.raises(Conflict, match="drafted from the agreed version"):
        draft.next_version(uuid.uuid4(), later, "sam")
    edited = draft.revised({"availability_pct": 99.0}, later)
    assert (edited.availability_pct, edited.version) == (99.0, 2)
    with pytest.raises(RuleViolation):
        draft.revised({"customer_id": uuid.uuid4()}, later)
    old = agreed.superseded(draft.id, later)
    assert (old.status, old.superseded_by, old.ended_at) == (AgreementStatus.SUPERSEDED, draft.id, later)
    with pytest.raises(InvalidTransition):
        old.retire(window(), "CHG0000001", later)


def test_retiring_an_agreed_version_needs_a_change_a_draft_does_not() -> None:
    assert sla().retire(None, None, NOW).status is AgreementStatus.RETIRED
    agreed = sla().agree(window(), "CHG0000001", NOW, "slm")
    with pytest.raises(RuleViolation, match="change_number"):
        agreed.retire(None, None, NOW)
    retired = agreed.retire(window(), "CHG0000001", NOW)
    assert (retired.status, retired.ended_at) == (AgreementStatus.RETIRED, NOW)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer_id": None}, "customer_id"),
        ({"group": "net"}, "customer_id"),
        ({"kind": AgreementKind.OLA}, "group"),
        ({"kind": AgreementKind.OLA, "customer_id": None, "group": " "}, "group"),
        ({"title": " "}, "title"),
        ({"service_ids": ()}, "service_ids"),
        ({"service_ids": (SERVICE, SERVICE)}, "service_ids"),
        ({"targets": ()}, "targets"),
        ({"targets": (PriorityTarget(0, 1, 1),)}, "targets.0.priority"),
        ({"targets": (PriorityTarget(6, 1, 1),)}, "targets.0.priority"),
        ({"targets": (PriorityTarget(2, 1, 1), PriorityTarget(2, 1, 1))}, "targets.1.priority"),
        ({"targets": (PriorityTarget(2, 0, 1),)}, "targets.0.response_minutes"),
        ({"targets": (PriorityTarget(2, 1, 0),)}, "targets.0.resolution_minutes"),
        ({"targets": (PriorityTarget(2, 61, 60),)}, "targets.0.response_minutes"),
        ({"availability_pct": 0.0}, "availability_pct"),
        ({"availability_pct": 100.01}, "availability_pct"),
        ({"calendar": " "}, "calendar"),
    ],
)
def test_an_agreement_refuses_terms_that_make_no_sense(changes: dict[str, object], field: str) -> None:
    with pytest.raises(RuleViolation) as exc:
        sla(**changes)
    assert field_of(exc) == [field]


def test_an_ola_with_a_group_and_the_target_of_a_priority() -> None:
    ola = sla(kind=AgreementKind.OLA, customer_id=None, group="network")
    assert ola.group == "network"
    assert ola.target_for(3) == PriorityTarget(3, 60, 60) and ola.target_for(2) is None


def customer(**changes: object) -> Customer:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "number": "CUS0000001",
        "name": "Acme",
        "relationship_manager": "rita",
        "review_interval_days": 90,
        "next_review": date(2027, 1, 1),
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return Customer(**values)  # type: ignore[arg-type]


def test_a_customer_has_a_name_a_relationship_manager_and_a_review_cadence() -> None:
    for changes, field in (
        ({"name": " "}, "name"),
        ({"relationship_manager": ""}, "relationship_manager"),
        ({"review_interval_days": 0}, "review_interval_days"),
        ({"service_ids": (SERVICE, SERVICE)}, "service_ids"),
        ({"user_groups": ("a", "a")}, "user_groups"),
    ):
        with pytest.raises(RuleViolation) as exc:
            customer(**changes)
        assert field_of(exc) == [field]


def test_a_customer_update_records_what_changed_and_a_review_moves_the_next_one() -> None:
    acme = customer(contacts=(Contact("Carl", "carl@acme.example"),))
    assert acme.updated({"relationship_manager": "rita"}, NOW) is acme
    later = NOW + timedelta(days=1)
    moved = acme.updated({"relationship_manager": "sam", "service_ids": (SERVICE,)}, later)
    assert (moved.version, moved.updated_at) == (2, later)
    assert moved.changes == {"relationship_manager": ["rita", "sam"], "service_ids": [[], [str(SERVICE)]]}
    with pytest.raises(RuleViolation):
        acme.updated({"number": "CUS9"}, later)
    reviewed = acme.reviewed(date(2026, 12, 1), later)
    assert reviewed.next_review == date(2027, 3, 1) and reviewed.version == 2
    assert next_review(date(2026, 1, 31), 1) == date(2026, 2, 1)
    with pytest.raises(RuleViolation):
        next_review(date(9999, 12, 31), 1)
    with pytest.raises(RuleViolation):
        next_review(date(2026, 1, 1), 0)
    assert replace(acme, name="Acme Ltd").name == "Acme Ltd"
