"""CI types and attribute validation against their JSON Schema, without I/O."""

from __future__ import annotations

import pytest

from services.config.domain.types import BUILTIN_TYPES, attribute_errors, check_attributes, define_type
from shared.errors import RuleViolation

TYPES = {t.name: t for t in BUILTIN_TYPES}


def test_the_built_in_set_is_there() -> None:
    assert set(TYPES) == {
        "business_service",
        "application",
        "application_instance",
        "server",
        "virtual_machine",
        "container_workload",
        "database",
        "network_device",
        "storage",
        "document",
        "location",
    }
    assert all(t.builtin for t in BUILTIN_TYPES)


@pytest.mark.parametrize(
    ("type_name", "attributes", "field"),
    [
        ("server", {"cpu_cores": 0}, "attributes.cpu_cores"),
        ("server", {"cpu_cores": "eight"}, "attributes.cpu_cores"),
        ("server", {"environment": "prod"}, "attributes.environment"),
        ("database", {"engine": "excel"}, "attributes.engine"),
        ("document", {}, "attributes.document_kind"),
        ("document", {"document_kind": "sla", "review_date": "next week"}, "attributes.review_date"),
        ("location", {"country": "france"}, "attributes.country"),
        ("network_device", {"management_ip": "300.1.1.1"}, "attributes.management_ip"),
    ],
)
def test_an_attribute_that_breaks_its_type_names_the_attribute(
    type_name: str, attributes: dict[str, object], field: str
) -> None:
    errors = attribute_errors(TYPES[type_name], attributes)
    assert [name for name, _ in errors] == [field]
    with pytest.raises(RuleViolation) as raised:
        check_attributes(TYPES[type_name], attributes)
    assert raised.value.extensions["errors"][0]["field"] == field


def test_valid_and_extra_attributes_pass() -> None:
    check_attributes(TYPES["server"], {"cpu_cores": 8, "memory_gb": 31.5, "environment": "production", "rack": "B4"})
    check_attributes(TYPES["document"], {"document_kind": "contract", "review_date": "2027-01-31"})


def test_several_broken_attributes_are_all_named() -> None:
    errors = attribute_errors(TYPES["server"], {"cpu_cores": 0, "memory_gb": -1})
    assert sorted(name for name, _ in errors) == ["attributes.cpu_cores", "attributes.memory_gb"]


def test_a_new_type_needs_a_valid_name_and_schema() -> None:
    ok = define_type(
        name="kubernetes_cluster",
        label="Kubernetes cluster",
        description="",
        attribute_schema={"type": "object", "properties": {"nodes": {"type": "integer"}}, "required": ["nodes"]},
    )
    assert attribute_errors(ok, {}) == [("attributes.nodes", "'nodes' is a required property")]
    with pytest.raises(RuleViolation) as raised:
        define_type(name="Bad Name", label="x", description="", attribute_schema={"type": "nonsense"})
    assert {e["field"] for e in raised.value.extensions["errors"]} == {"name", "attribute_schema"}
    with pytest.raises(RuleViolation):
        define_type(name="list_type", label="x", description="", attribute_schema={"type": "array"})
