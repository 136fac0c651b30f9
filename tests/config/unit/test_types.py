"""CI types and attribute validation against their JSON Schema, without I/O."""

from __future__ import annotations

import pytest

from services.config.domain.types import BUILTIN_TYPES, CIType, _object, attribute_errors, check_attributes, define_type
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


def test_a_new_type_keeps_what_was_given_and_a_blank_label_falls_back_to_the_name() -> None:
    schema = {"type": "object", "properties": {"nodes": {"type": "integer"}}}
    made = define_type(
        name="k8s_cluster", label="  Kubernetes cluster ", description="A cluster", attribute_schema=schema
    )
    assert (made.name, made.label, made.description, made.attribute_schema) == (
        "k8s_cluster",
        "Kubernetes cluster",
        "A cluster",
        schema,
    )
    assert made.builtin is False
    assert define_type(name="k8s_cluster", label="  ", description="", attribute_schema=schema).label == "k8s_cluster"


def test_a_schema_that_names_no_type_describes_an_object() -> None:
    made = define_type(name="rack", label="Rack", description="", attribute_schema={"properties": {"units": {}}})
    check_attributes(made, {"units": 42})


def test_a_schema_for_something_else_than_an_object_is_refused_on_the_schema() -> None:
    with pytest.raises(RuleViolation) as raised:
        define_type(name="list_type", label="x", description="", attribute_schema={"type": "array"})
    assert raised.value.detail
    assert [e["field"] for e in raised.value.extensions["errors"]] == ["attribute_schema"]


def test_an_error_inside_a_list_attribute_names_the_item() -> None:
    errors = attribute_errors(TYPES["business_service"], {"customers": ["acme", 7]})
    assert [name for name, _ in errors] == ["attributes.customers.1"]


def test_attributes_that_are_not_an_object_are_refused_as_a_whole() -> None:
    errors = attribute_errors(TYPES["server"], ["cpu_cores", 8])  # type: ignore[arg-type]
    assert [name for name, _ in errors] == ["attributes"]


def test_a_built_in_schema_checks_the_attributes_it_models_requires_what_it_lists_and_allows_the_rest() -> None:
    schema = _object({"ports": {"type": "integer"}}, required=("ports",))
    kind = CIType("patch_panel", "Patch panel", "", schema)
    check_attributes(kind, {"ports": 24, "colour": "grey"})
    assert [name for name, _ in attribute_errors(kind, {"colour": "grey"})] == ["attributes.ports"]
    assert [name for name, _ in attribute_errors(kind, {"ports": "many"})] == ["attributes.ports"]
    assert [name for name, _ in attribute_errors(kind, "24")] == ["attributes"]  # type: ignore[arg-type]
    assert attribute_errors(CIType("any", "Any", "", _object({})), {"whatever": 1}) == []
