"""Discovery as pure rules: identifying an observed item by its strongest identifier, what an
observation would set on the CI it matches, and the run's counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from services.config.domain.discovery import (
    Ambiguous,
    IdentifierIndex,
    ItemReport,
    ObservedItem,
    Outcome,
    RunReport,
    differences,
    identifier_values,
    observed_values,
)
from services.config.domain.items import CIStatus, ConfigItem, Criticality, Identifiers

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def ci(n: int, identifiers: Identifiers, **fields: Any) -> ConfigItem:
    """A CI as the store reads it back (its identifiers as stored, not necessarily normalised)."""
    values: dict[str, Any] = {
        "id": UUID(int=n),
        "number": f"CI{n:07d}",
        "name": f"host-{n}",
        "ci_type": "server",
        "status": CIStatus.LIVE,
        "criticality": Criticality.MEDIUM,
        "owner": None,
        "attributes": {},
        "identifiers": identifiers,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return ConfigItem(**values)


def seen(**identifiers: str) -> ObservedItem:
    return ObservedItem(key="k", type="server", name="observed", identifiers=Identifiers(**identifiers))


def test_an_observations_identifiers_come_strongest_first_dns_names_in_lower_case() -> None:
    observed = seen(hostname="WEB-01", fqdn="WEB-01.Example.com", serial="SN-1", cloud_id="i-AB")
    assert observed.identifier_values() == [
        ("cloud_id", "i-AB"),
        ("serial", "SN-1"),
        ("fqdn", "web-01.example.com"),
        ("hostname", "web-01"),
    ]
    assert seen(serial="SN-1", hostname="").identifier_values() == [("serial", "SN-1")]


@pytest.mark.parametrize(
    "observed",
    [seen(cloud_id="i-1"), seen(serial="SN-1"), seen(fqdn="WEB.example.com"), seen(hostname="Web")],
)
def test_any_one_identifier_finds_the_ci_whatever_the_case_of_its_dns_names(observed: ObservedItem) -> None:
    item = ci(1, Identifiers(cloud_id="i-1", serial="SN-1", fqdn="web.EXAMPLE.com", hostname="WEB"))
    assert IdentifierIndex([ci(2, Identifiers(hostname="other")), item]).match(observed) is item


def test_an_observation_that_matches_no_identifier_is_new() -> None:
    index = IdentifierIndex([ci(1, Identifiers(hostname="web", serial="SN-1"))])
    assert index.match(seen(hostname="db", serial="SN-2")) is None
    assert IdentifierIndex([]).match(seen(hostname="web")) is None


def test_identifiers_that_agree_on_one_ci_match_it() -> None:
    item = ci(1, Identifiers(hostname="web", serial="SN-1"))
    assert IdentifierIndex([item]).match(seen(hostname="web", serial="SN-1")) is item


def test_identifiers_that_point_at_two_cis_are_ambiguous_and_name_both() -> None:
    index = IdentifierIndex([ci(7, Identifiers(serial="SN-1")), ci(3, Identifiers(hostname="web"))])
    with pytest.raises(Ambiguous) as raised:
        index.match(seen(serial="SN-1", hostname="web"))
    assert "CI0000003, CI0000007" in str(raised.value)


def test_a_shared_identifier_keeps_pointing_at_the_first_ci_indexed() -> None:
    first, second = ci(1, Identifiers(hostname="web")), ci(2, Identifiers(hostname="web"))
    index = IdentifierIndex([first])
    index.add(second)
    assert index.match(seen(hostname="web")) is first
    assert index.items == {first.id: first, second.id: second}


def test_an_imported_rows_identifiers_come_strongest_first_and_blank_ones_are_left_out() -> None:
    row = Identifiers(hostname="DB-01", fqdn="", serial="SN-9", cloud_id=None)
    assert identifier_values(row) == [("serial", "SN-9"), ("hostname", "db-01")]
    assert identifier_values(Identifiers()) == []


def test_an_imported_row_finds_its_ci_by_identifiers_as_discovery_does() -> None:
    item = ci(1, Identifiers(serial="SN-1", fqdn="DB.Example.com", hostname="DB"))
    index = IdentifierIndex([ci(2, Identifiers(hostname="web")), item])
    assert index.match_identifiers(Identifiers(hostname="db")) is item  # host names without case
    assert index.match_identifiers(Identifiers(fqdn="db.example.COM", hostname="db")) is item
    assert index.match_identifiers(Identifiers(serial="sn-1")) is None  # a serial is exact
    assert index.match_identifiers(Identifiers()) is None  # a row with no identifier names no CI


def test_an_imported_row_whose_identifiers_name_two_cis_is_ambiguous() -> None:
    index = IdentifierIndex([ci(4, Identifiers(cloud_id="i-4")), ci(5, Identifiers(hostname="app"))])
    with pytest.raises(Ambiguous) as raised:
        index.match_identifiers(Identifiers(cloud_id="i-4", hostname="APP"))
    assert "CI0000004, CI0000005" in str(raised.value)


def test_observed_attributes_are_merged_into_the_recorded_ones() -> None:
    item = ci(1, Identifiers(), attributes={"os": "Debian", "cpu_cores": 4})
    observed = ObservedItem("k", "server", "n", Identifiers(), attributes={"cpu_cores": 8})
    assert observed_values(item, observed) == {"attributes": {"os": "Debian", "cpu_cores": 8}}


def test_an_observation_that_shows_what_is_recorded_sets_nothing() -> None:
    item = ci(1, Identifiers(hostname="web", serial="SN-1"), attributes={"os": "Debian"}, product_version="2.1")
    observed = ObservedItem("k", "server", "n", Identifiers(hostname="WEB"), {"os": "Debian"}, "2.1")
    assert observed_values(item, observed) == {}
    assert observed_values(item, ObservedItem("k", "server", "n", Identifiers())) == {}


def test_an_observed_product_version_replaces_the_recorded_one() -> None:
    item = ci(1, Identifiers(), product_version="2.1")
    observed = ObservedItem("k", "server", "n", Identifiers(), product_version="2.2")
    assert observed_values(item, observed) == {"product_version": "2.2"}


def test_observed_identifiers_fill_and_replace_the_recorded_ones_and_keep_those_not_seen() -> None:
    known = Identifiers(serial="SN-1", hostname="web", fqdn="web.example.com", cloud_id="i-1")
    item = ci(1, known)
    assert observed_values(item, seen(hostname="WEB-2")) == {
        "identifiers": Identifiers(serial="SN-1", hostname="web-2", fqdn="web.example.com", cloud_id="i-1")
    }
    assert observed_values(item, seen(serial="SN-2", fqdn="www.example.com", cloud_id="i-2")) == {
        "identifiers": Identifiers(serial="SN-2", hostname="web", fqdn="www.example.com", cloud_id="i-2")
    }
    bare = ci(2, Identifiers())
    assert observed_values(bare, seen(cloud_id="i-9", serial="SN-9")) == {
        "identifiers": Identifiers(serial="SN-9", cloud_id="i-9")
    }


def test_differences_are_what_the_history_would_record() -> None:
    item = ci(1, Identifiers(hostname="web"), attributes={"os": "Debian"}, product_version="2.1")
    values = {
        "attributes": {"os": "Debian", "cpu_cores": 8},
        "product_version": "2.2",
        "identifiers": Identifiers(hostname="web", serial="SN-1"),
    }
    assert differences(item, values) == {
        "attributes.cpu_cores": {"old": None, "new": 8},
        "identifiers.serial": {"old": None, "new": "SN-1"},
        "product_version": {"old": "2.1", "new": "2.2"},
    }
    assert differences(item, {}) == {}


def test_a_run_counts_each_outcome_and_the_relationships() -> None:
    report = RunReport(source="scanner", started_at=NOW)
    assert report.counts() == {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "unauthorised": 0,
        "error": 0,
        "relationships_added": 0,
        "relationship_errors": 0,
    }
    report.items += [
        ItemReport("a", Outcome.CREATED),
        ItemReport("b", Outcome.CREATED),
        ItemReport("c", Outcome.UNAUTHORISED),
        ItemReport("d", Outcome.ERROR, detail="ambiguous"),
    ]
    report.relationships_added = 3
    report.relationship_errors.append("x -> y: unknown key")
    assert report.counts() == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "unauthorised": 1,
        "error": 1,
        "relationships_added": 3,
        "relationship_errors": 1,
    }
