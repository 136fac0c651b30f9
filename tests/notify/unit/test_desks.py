"""Service desks: the choice of an event's desk (its service, then its assignment group, else the
default desk), and the `mail_desks` setting's checks (addresses, unique names, a service or group
in one desk only, bounded sizes); the mail configuration carries the desks."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError

from services.notify.domain.desks import Desk, check_mailbox, desk_for
from services.notify.settings import NotifySettings
from services.notify.usecases.notifications import mail_config_of

NETWORK = uuid.uuid4()
PAYROLL = uuid.uuid4()
HR = uuid.uuid4()
DEFAULT = Desk("Service Desk", "Service Desk <desk@example.test>", "support@example.test")
IT = Desk("IT", "IT Desk <it@example.test>", "it-help@example.test", frozenset({NETWORK}), frozenset({"network"}))
PEOPLE = Desk("People", "people@example.test", "", frozenset({PAYROLL, HR}), frozenset({"hr-ops"}))
DESKS = [IT, PEOPLE]


def test_the_service_picks_the_desk() -> None:
    assert desk_for({"service_id": str(PAYROLL)}, DESKS, DEFAULT) is PEOPLE
    assert desk_for({"service_id": NETWORK}, DESKS, DEFAULT) is IT


def test_the_service_comes_before_the_group() -> None:
    data = {"service_id": str(PAYROLL), "assignment_group": "network"}
    assert desk_for(data, DESKS, DEFAULT) is PEOPLE


def test_a_service_no_desk_serves_falls_to_the_group() -> None:
    data = {"service_id": str(uuid.uuid4()), "assignment_group": "Network"}
    assert desk_for(data, DESKS, DEFAULT) is IT, "a group matches whatever its case"


def test_a_change_goes_from_the_desk_of_the_first_service_one_serves() -> None:
    data = {"service_ids": [str(uuid.uuid4()), str(HR), str(NETWORK)]}
    assert desk_for(data, DESKS, DEFAULT) is PEOPLE


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"service_id": None, "assignment_group": None},
        {"service_id": "not a uuid", "assignment_group": ""},
        {"service_id": str(uuid.uuid4()), "assignment_group": "facilities"},
        {"service_ids": "not a list", "assignment_group": 7},
        "not an object",
    ],
)
def test_anything_else_goes_from_the_default_desk(data: object) -> None:
    assert desk_for(data, DESKS, DEFAULT) is DEFAULT


def test_without_desks_everything_goes_from_the_default_desk() -> None:
    assert desk_for({"service_id": str(NETWORK)}, [], DEFAULT) is DEFAULT


@pytest.mark.parametrize("value", ["Service Desk <desk@example.test>", "desk@example.test", '"Desk, IT" <d@ex.test>'])
def test_an_address_with_an_optional_display_name_is_a_mailbox(value: str) -> None:
    assert check_mailbox(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "desk",
        "Desk <desk>",
        "a@example.test, b@example.test",
        "Desk <d@example.test> x",
        "d@example.test\r\nBcc: x@y.z",
    ],
)
def test_anything_else_is_not(value: str) -> None:
    with pytest.raises(ValueError, match=r"not one address|no line breaks"):
        check_mailbox(value)


def desk(name: str, **values: object) -> dict[str, object]:
    return {"name": name, "from": f"{name} <{name.lower()}@example.test>", **values}


def test_the_setting_is_read_from_json_and_carried_to_the_mail_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    desks = [
        desk("IT", reply_to="it-help@example.test", service_ids=[str(NETWORK)], assignment_groups=["Network"]),
        desk("People", assignment_groups=["hr-ops"]),
    ]
    monkeypatch.setenv("NOTIFY_MAIL_DESKS", json.dumps(desks))
    config = mail_config_of(NotifySettings())
    assert config.desks == (
        Desk("IT", "IT <it@example.test>", "it-help@example.test", frozenset({NETWORK}), frozenset({"network"})),
        Desk("People", "People <people@example.test>", "", frozenset(), frozenset({"hr-ops"})),
    )
    assert config.default_desk == Desk(config.desk, NotifySettings().mail_from, "")


def test_no_desks_is_the_one_desk_of_mail_from() -> None:
    config = mail_config_of(NotifySettings(mail_from="Help <help@example.test>", mail_reply_to="r@example.test"))
    assert config.desks == ()
    assert config.default_desk == Desk("Help <help@example.test>", "Help <help@example.test>", "r@example.test")


@pytest.mark.parametrize(
    ("desks", "message"),
    [
        ([desk("IT", assignment_groups=["a"]), desk("it", assignment_groups=["b"])], "two desks are named 'it'"),
        (
            [desk("IT", service_ids=[str(NETWORK)]), desk("People", service_ids=[str(NETWORK)])],
            f"service {NETWORK} belongs to desks 'IT' and 'People'",
        ),
        (
            [desk("IT", assignment_groups=["HR-ops"]), desk("People", assignment_groups=["hr-ops"])],
            "assignment group 'hr-ops' belongs to desks 'IT' and 'People'",
        ),
        ([desk("IT")], "desk 'IT' serves nothing"),
        ([{"name": "IT", "from": "not an address", "assignment_groups": ["a"]}], "is not one address"),
        ([desk("IT", reply_to="a@example.test, b@example.test", assignment_groups=["a"])], "is not one address"),
        ([desk("IT", assignment_groups=["a"], colour="red")], "colour"),
        ([desk("", assignment_groups=["a"])], "name"),
        ([desk("x" * 101, assignment_groups=["a"])], "name"),
        ([desk("IT", assignment_groups=["x" * 101])], "an assignment group is 1 to 100 characters"),
        ([desk("IT", service_ids=["nope"])], "service_ids"),
        ([desk("IT", assignment_groups=[f"g{i}" for i in range(501)])], "at most 500"),
        ([desk(f"D{i}", assignment_groups=[f"g{i}"]) for i in range(21)], "at most 20"),
    ],
)
def test_a_bad_setting_is_refused_saying_why(desks: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")) as caught:
        NotifySettings.model_validate({"mail_desks": desks})
    assert "mail_desks" in str(caught.value)


def test_twenty_desks_of_500_entries_each_are_accepted() -> None:
    desks = [desk(f"D{i}", assignment_groups=[f"g{i}.{j}" for j in range(500)]) for i in range(20)]
    assert len(NotifySettings.model_validate({"mail_desks": desks}).mail_desks) == 20
