"""Registering a configuration item: pure domain rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from services.config.domain.items import (
    Cause,
    CIStatus,
    ConfigItem,
    Criticality,
    Identifiers,
    ItemRegistered,
    hostname_claim,
)
from services.config.domain.types import BUILTIN_TYPES
from services.config.events import to_contract
from shared.errors import RuleViolation

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CAUSE = Cause("manual", "tester")
SERVER = next(t for t in BUILTIN_TYPES if t.name == "server")


def register(**overrides: Any) -> ConfigItem:
    values: dict[str, Any] = {
        "ci_id": uuid4(),
        "number": "CI0000001",
        "name": "mail-01",
        "ci_type": SERVER,
        "status": CIStatus.LIVE,
        "criticality": Criticality.MEDIUM,
        "owner": None,
        "attributes": {},
        "identifiers": Identifiers(),
        "now": NOW,
        "cause": CAUSE,
    }
    values.update(overrides)
    return ConfigItem.register(**values)


def test_a_ci_is_registered_at_version_1_and_records_one_event() -> None:
    ci_id = uuid4()
    item = register(ci_id=ci_id, name="  mail-01 ")
    assert item.name == "mail-01"
    assert item.version == 1
    assert item.created_at == item.updated_at == NOW
    assert item.pending_events == [ItemRegistered(ci_id, CAUSE)]


def test_a_blank_name_is_refused() -> None:
    with pytest.raises(RuleViolation) as exc:
        register(name=" ")
    assert exc.value.extensions["errors"][0]["field"] == "name"


def test_dns_names_are_kept_in_lower_case_and_other_identifiers_as_given() -> None:
    given = Identifiers(serial="SN-AbC", hostname="Mail-01", fqdn="Mail-01.Example.COM", cloud_id="i-0AbC")
    item = register(identifiers=given)
    assert item.identifiers == Identifiers(
        serial="SN-AbC", hostname="mail-01", fqdn="mail-01.example.com", cloud_id="i-0AbC"
    )


def test_the_attributes_are_the_cis_own_copy() -> None:
    attributes: dict[str, Any] = {"cpu": 4}
    item = register(attributes=attributes)
    attributes["cpu"] = 64
    assert item.attributes == {"cpu": 4}


@pytest.mark.parametrize("status", [s for s in CIStatus if s is not CIStatus.RETIRED])
def test_a_ci_that_is_not_retired_holds_its_hostname(status: CIStatus) -> None:
    assert hostname_claim(status, Identifiers(hostname="WEB-01")) == "web-01"
    assert register(status=status, identifiers=Identifiers(hostname="WEB-01")).hostname_claim == "web-01"


def test_a_retired_ci_or_one_without_a_hostname_holds_none() -> None:
    assert hostname_claim(CIStatus.RETIRED, Identifiers(hostname="web-01")) is None
    assert hostname_claim(CIStatus.LIVE, Identifiers(fqdn="web-01.example.com")) is None


def test_the_created_and_updated_events_carry_the_cis_identifiers() -> None:
    item = register(identifiers=Identifiers(serial="SN-7", hostname="Mail-01", fqdn="mail-01.example.org"))
    created = to_contract(item.pending_events[0], item)
    assert created.model_dump()["identifiers"] == {
        "serial": "SN-7", "hostname": "mail-01", "fqdn": "mail-01.example.org", "cloud_id": None,
    }  # fmt: skip
    item.pending_events.clear()
    item.update({"identifiers": Identifiers(cloud_id="i-7")}, SERVER, now=NOW, cause=CAUSE)
    updated = to_contract(item.pending_events[0], item)
    assert updated.model_dump()["identifiers"]["cloud_id"] == "i-7"
