"""Recipients by kind (pure): a field of the event (a user name looked up in the directory first),
a fixed address, a group (named, or named by a field), a role, the CAB, a supplier's contacts and
a customer's relationship managers; what is refused when a rule names them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from services.notify.domain.notifications import Rule
from services.notify.domain.recipients import Kind, Person, Recipient, addresses, check_recipients, needs_directory
from shared.errors import RuleViolation

SUPPLIER = str(uuid4())
PEOPLE = [
    Person("ada", "ada@corp.test", groups=("network",), roles=("cab",)),
    Person("bob", "bob@corp.test", groups=("network", "desk"), roles=("contract_manager",), suppliers=(SUPPLIER,)),
    Person("carol", "Carol@corp.test", groups=("desk",), roles=("cab",), customers=("ACME",)),
]


def to(kind: str, value: str | None = None, data: Any = None, domain: str = "") -> list[str]:
    return addresses([Recipient.of(kind, value)], data if data is not None else {}, PEOPLE, domain)


def test_each_kind_names_the_people_it_stands_for() -> None:
    data = {"caller": "bob", "assignment_group": "desk", "supplier_id": SUPPLIER, "customer_id": "ACME"}
    assert to("field", "data.caller", data) == ["bob@corp.test"], "the directory's address for a user name"
    assert to("field", "data.caller", {"caller": "zed"}, "x.test") == ["zed@x.test"], "else the domain setting"
    assert to("field", "data.caller", {"caller": "zed"}) == []
    assert to("field", "data.caller", {"caller": "eve@else.test"}) == ["eve@else.test"]
    assert to("address", "ops@corp.test") == ["ops@corp.test"]
    assert to("group", "network") == ["ada@corp.test", "bob@corp.test"]
    assert to("group", "data.assignment_group", data) == ["bob@corp.test", "Carol@corp.test"]
    assert to("group", "data.assignment_group", {"assignment_group": None}) == []
    assert to("group", "nobody") == []
    assert to("role", "contract_manager") == ["bob@corp.test"]
    assert to("cab") == ["ada@corp.test", "Carol@corp.test"]
    assert to("supplier_contact", None, data) == ["bob@corp.test"], "default field data.supplier_id"
    assert to("supplier_contact", None, {"supplier_id": str(uuid4())}) == []
    assert to("relationship_manager", None, data) == ["Carol@corp.test"], "default field data.customer_id"
    assert to("relationship_manager", "data.customer", {"customer": "ACME"}) == ["Carol@corp.test"]
    assert to("relationship_manager", None, {}) == []


def test_a_field_holding_a_list_names_each_of_its_people_that_stands_for_an_address() -> None:
    data = {"agreed_with": ["bob", "customer board", "eve@else.test", 7, "zed"]}
    assert to("field", "data.agreed_with", data) == ["bob@corp.test", "eve@else.test"]
    assert to("field", "data.agreed_with", data, "x.test") == ["bob@corp.test", "eve@else.test", "zed@x.test"]
    assert to("field", "data.agreed_with", {"agreed_with": []}) == []
    many = {"agreed_with": [f"p{n}@x.test" for n in range(80)]}
    assert len(to("field", "data.agreed_with", many)) == 50, "a list is read up to its bound"


def test_recipients_are_distinct_case_insensitively_in_order() -> None:
    recipients = [Recipient.of("cab"), Recipient.of("group", "desk"), Recipient.of("address", "carol@CORP.test")]
    assert addresses(recipients, {}, PEOPLE, "") == ["ada@corp.test", "Carol@corp.test", "bob@corp.test"]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("team", "x"),
        ("field", "caller"),
        ("field", "data.Caller"),
        ("address", "not an address"),
        ("group", "two words"),
        ("role", ""),
        ("cab", "someone"),
        ("supplier_contact", "supplier_id"),
    ],
)
def test_a_bad_recipient_is_refused_naming_the_field(kind: str, value: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        Recipient.of(kind, value)
    assert caught.value.extensions["errors"][0]["field"] == "recipients"


def test_a_rule_names_one_to_ten_recipients() -> None:
    with pytest.raises(RuleViolation):
        check_recipients([])
    with pytest.raises(RuleViolation):
        check_recipients([Recipient.of("cab")] * 11)
    assert check_recipients([Recipient.of("cab")]) == [Recipient(Kind.CAB)]


def test_only_fixed_addresses_need_no_directory() -> None:
    assert not needs_directory([Recipient.of("address", "a@b.test")])
    assert needs_directory([Recipient.of("address", "a@b.test"), Recipient.of("field", "data.caller")])


def test_a_rule_resolves_its_fields_and_its_recipients() -> None:
    rule = Rule.new(
        id=uuid4(),
        name="r",
        event_pattern="change.assessed.v1",
        template="change_vote_needed",
        recipient_fields=["data.requested_by"],
        targets=[Recipient.of("cab"), Recipient.of("field", "data.requested_by")],
        created_by="ada",
        created_at=datetime.now(UTC),
    )
    assert rule.recipients({"requested_by": "bob"}, "", PEOPLE) == ["bob@corp.test", "ada@corp.test", "Carol@corp.test"]
    assert rule.recipients(None, "", PEOPLE) == []
    with pytest.raises(RuleViolation):
        Rule.new(**{**rule.__dict__, "targets": [], "recipient_fields": []})
