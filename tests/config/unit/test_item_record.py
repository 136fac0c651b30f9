"""A CI's record: what registering keeps, the snapshot a version stores, how an update reads the
values a client sends, and which edits are refused (with the field named)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.config.domain.items import (
    Cause,
    ChangeWindow,
    CIStatus,
    ConfigItem,
    Criticality,
    Identifiers,
    diff,
    require_change_for_controlled,
)
from services.config.domain.types import BUILTIN_TYPES
from shared.errors import InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
CAUSE = Cause("manual", "ann")
TYPES = {t.name: t for t in BUILTIN_TYPES}
SERVER = TYPES["server"]
CI_ID = UUID("00000000-0000-0000-0000-0000000000c1")


def register(**overrides: Any) -> ConfigItem:
    values: dict[str, Any] = {
        "ci_id": CI_ID,
        "number": "CI0000042",
        "name": "db01",
        "ci_type": SERVER,
        "status": CIStatus.LIVE,
        "criticality": Criticality.HIGH,
        "owner": "dba",
        "attributes": {"cpu_cores": 8},
        "identifiers": Identifiers(hostname="db01"),
        "now": NOW,
        "cause": CAUSE,
    }
    values.update(overrides)
    item = ConfigItem.register(**values)
    item.pending_events.clear()
    return item


def refused_fields(raised: pytest.ExceptionInfo[RuleViolation]) -> list[str]:
    """The fields a refusal names (its detail is a text a person can read)."""
    assert isinstance(raised.value.detail, str) and raised.value.detail
    return [e["field"] for e in raised.value.extensions["errors"]]


def test_registering_keeps_every_optional_field_given() -> None:
    service, supplier, location = uuid4(), uuid4(), uuid4()
    item = register(
        description="primary database",
        service_id=service,
        supplier_id=supplier,
        location_id=location,
        product_version="16.2",
        controlled=True,
    )
    assert (item.number, item.ci_type, item.owner) == ("CI0000042", "server", "dba")
    assert (item.service_id, item.supplier_id, item.location_id) == (service, supplier, location)
    assert (item.description, item.product_version, item.controlled) == ("primary database", "16.2", True)


def test_a_ci_registered_without_the_optional_fields_is_uncontrolled_and_undescribed() -> None:
    item = register()
    assert item.description == ""
    assert item.controlled is False
    assert (item.service_id, item.supplier_id, item.location_id, item.product_version) == (None, None, None, None)


def test_a_ci_cannot_be_registered_as_belonging_to_itself() -> None:
    with pytest.raises(RuleViolation) as raised:
        register(service_id=CI_ID)
    assert refused_fields(raised) == ["service_id"]


def test_a_blank_name_is_refused_with_a_readable_reason() -> None:
    with pytest.raises(RuleViolation) as raised:
        register(name="   ")
    assert refused_fields(raised) == ["name"]


def test_the_snapshot_holds_the_record_as_plain_json_values() -> None:
    service, supplier, location = (UUID(int=n) for n in (0xA5, 0xB5, 0xC5))
    item = register(
        description="primary database",
        service_id=service,
        supplier_id=supplier,
        location_id=location,
        product_version="16.2",
        identifiers=Identifiers(serial="SN1", hostname="DB01", fqdn="db01.example.com", cloud_id="i-1"),
    )
    assert item.snapshot() == {
        "id": str(CI_ID),
        "number": "CI0000042",
        "name": "db01",
        "type": "server",
        "status": "live",
        "criticality": 2,
        "owner": "dba",
        "description": "primary database",
        "service_id": str(service),
        "supplier_id": str(supplier),
        "location_id": str(location),
        "product_version": "16.2",
        "identifiers": {"serial": "SN1", "hostname": "db01", "fqdn": "db01.example.com", "cloud_id": "i-1"},
        "attributes": {"cpu_cores": 8},
        "controlled": False,
        "version": 1,
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
    }


def test_an_update_reads_status_criticality_and_ids_sent_as_json_values() -> None:
    item = register()
    service, supplier, location = uuid4(), uuid4(), uuid4()
    changes = item.update(
        {
            "status": "maintenance",
            "criticality": 1,
            "service_id": str(service),
            "supplier_id": str(supplier),
            "location_id": str(location),
        },
        SERVER,
        now=LATER,
        cause=CAUSE,
    )
    assert item.status is CIStatus.MAINTENANCE
    assert item.criticality is Criticality.CRITICAL
    assert (item.service_id, item.supplier_id, item.location_id) == (service, supplier, location)
    assert changes["status"] == {"old": "live", "new": "maintenance"}
    assert changes["service_id"] == {"old": None, "new": str(service)}


def test_the_snapshot_of_a_ci_without_links_holds_none_for_them() -> None:
    snapshot = register().snapshot()
    assert (snapshot["service_id"], snapshot["supplier_id"], snapshot["location_id"]) == (None, None, None)


def test_an_update_takes_ids_given_as_uuids_and_clears_one_set_to_none() -> None:
    service = uuid4()
    item = register(service_id=service)
    other = uuid4()
    item.update({"supplier_id": other, "service_id": None}, SERVER, now=LATER, cause=CAUSE)
    assert item.supplier_id == other
    assert item.service_id is None


def test_an_update_takes_identifiers_as_an_object_or_as_json_and_lower_cases_dns_names() -> None:
    item = register()
    item.update({"identifiers": Identifiers(hostname="DB02", serial="SN-X")}, SERVER, now=LATER, cause=CAUSE)
    assert item.identifiers == Identifiers(hostname="db02", serial="SN-X")
    item.update({"identifiers": {"fqdn": "DB02.Example.COM"}}, SERVER, now=LATER, cause=CAUSE)
    assert item.identifiers == Identifiers(fqdn="db02.example.com")


def test_the_attributes_set_by_an_update_are_the_cis_own_copy() -> None:
    item = register()
    attributes: dict[str, Any] = {"cpu_cores": 16}
    item.update({"attributes": attributes}, SERVER, now=LATER, cause=CAUSE)
    attributes["cpu_cores"] = 64
    assert item.attributes == {"cpu_cores": 16}


def test_an_update_sets_every_field_it_changes_on_the_record() -> None:
    item = register()
    item.update(
        {"name": "db02", "owner": "ops", "description": "replica", "product_version": "17", "controlled": True},
        SERVER,
        now=LATER,
        cause=CAUSE,
    )
    assert (item.name, item.owner, item.description, item.product_version, item.controlled) == (
        "db02",
        "ops",
        "replica",
        "17",
        True,
    )
    assert item.updated_at == LATER
    assert item.created_at == NOW


def test_an_attribute_called_version_is_changed_and_recorded_like_any_other() -> None:
    item = register(attributes={"version": "1.0", "updated_at": "2026-01-01"})
    changes = item.update(
        {"attributes": {"version": "2.0", "updated_at": "2026-02-01"}}, SERVER, now=LATER, cause=CAUSE
    )
    assert changes == {
        "attributes.updated_at": {"old": "2026-01-01", "new": "2026-02-01"},
        "attributes.version": {"old": "1.0", "new": "2.0"},
    }
    assert item.attributes == {"version": "2.0", "updated_at": "2026-02-01"}
    assert item.version == 2


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "  "}, "name"),
        ({"service_id": CI_ID}, "service_id"),
        ({"service_id": str(CI_ID)}, "service_id"),
        ({"status": "retired"}, "status"),
        ({"version": 7}, "version"),
    ],
)
def test_a_refused_update_names_the_field_and_changes_nothing(values: dict[str, Any], field: str) -> None:
    item = register()
    before = item.snapshot()
    with pytest.raises(RuleViolation) as raised:
        item.update(values, SERVER, now=LATER, cause=CAUSE)
    assert refused_fields(raised) == [field]
    assert item.snapshot() == before
    assert item.pending_events == []


def test_a_retired_ci_refuses_updates_and_a_second_retirement_in_the_retired_state() -> None:
    item = register()
    item.retire(now=LATER, cause=CAUSE)
    assert item.updated_at == LATER
    for act in (
        lambda: item.update({"name": "x"}, SERVER, now=LATER, cause=CAUSE),
        lambda: item.retire(now=LATER, cause=CAUSE),
    ):
        with pytest.raises(InvalidTransition) as raised:
            act()
        assert raised.value.extensions == {"state": "retired", "allowed_actions": []}


def test_diff_leaves_the_bookkeeping_out_wherever_it_sorts() -> None:
    before = {"updated_at": "a", "version": 1, "zone": "eu", "created_at": "x"}
    after = {"updated_at": "b", "version": 2, "zone": "us", "created_at": "y"}
    assert diff(before, after) == {
        "created_at": {"old": "x", "new": "y"},
        "zone": {"old": "eu", "new": "us"},
    }


def test_diff_reports_an_object_that_appears_or_goes_as_a_whole() -> None:
    assert diff({"a": None}, {"a": {"x": 1}}) == {"a": {"old": None, "new": {"x": 1}}}
    assert diff({"a": {"x": 1}}, {"a": "flat"}) == {"a": {"old": {"x": 1}, "new": "flat"}}


def window(item_id: UUID, **overrides: object) -> ChangeWindow:
    values: dict[str, object] = {
        "change_id": uuid4(),
        "number": "CHG0000042",
        "status": "approved",
        "planned_start": NOW - timedelta(hours=1),
        "planned_end": NOW + timedelta(hours=1),
        "affected_ci_ids": frozenset({item_id}),
    }
    values.update(overrides)
    return ChangeWindow(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", ["approved", "implementing"])
def test_a_change_authorises_its_cis_while_approved_or_being_implemented(status: str) -> None:
    assert window(CI_ID, status=status).authorises(CI_ID, NOW) is None


@pytest.mark.parametrize("status", ["implemented", "failed", "cancelled", "closed"])
def test_a_change_that_is_over_authorises_no_edit_by_hand(status: str) -> None:
    assert window(CI_ID, status=status).authorises(CI_ID, NOW) == f"change CHG0000042 is {status}, not approved"


def test_a_change_window_includes_its_first_and_last_instant() -> None:
    change = window(CI_ID, planned_start=NOW, planned_end=LATER)
    assert change.authorises(CI_ID, NOW) is None
    assert change.authorises(CI_ID, LATER) is None
    assert change.authorises(CI_ID, LATER + timedelta(microseconds=1)) is not None
    assert change.authorises(CI_ID, NOW - timedelta(microseconds=1)) is not None


@pytest.mark.parametrize(
    "times", [{"planned_start": None, "planned_end": None}, {"planned_start": None}, {"planned_end": None}]
)
def test_a_change_without_its_implementation_window_authorises_no_edit(times: dict[str, object]) -> None:
    change = window(CI_ID, **times)
    assert change.authorises(CI_ID, NOW) == "change CHG0000042 has no implementation window (planned start and end)"


@pytest.mark.parametrize(
    ("change", "number"),
    [
        (None, None),  # no change named
        (None, "CHG0000001"),  # a change the CMDB does not know
        (window(CI_ID, status="submitted"), "CHG0000042"),
    ],
)
def test_every_refusal_of_a_controlled_edit_names_the_change_number(
    change: ChangeWindow | None, number: str | None
) -> None:
    item = register(controlled=True)
    with pytest.raises(RuleViolation) as raised:
        require_change_for_controlled(item, change, number, NOW)
    assert refused_fields(raised) == ["change_number"]
