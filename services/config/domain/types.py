"""CI types: each has an attribute schema (JSON Schema) that a CI's `attributes` must satisfy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from shared.errors import RuleViolation

TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
BUSINESS_SERVICE: Final = "business_service"

_ENVIRONMENT = {"type": "string", "enum": ["development", "test", "staging", "production"]}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    # Extra attributes are allowed on the built-in types: discovery tools send more than we model.
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": True}


@dataclass(frozen=True)
class CIType:
    name: str
    label: str
    description: str
    attribute_schema: dict[str, Any]
    builtin: bool = False


BUILTIN_TYPES: Final[tuple[CIType, ...]] = (
    CIType(
        BUSINESS_SERVICE,
        "Business service",
        "A service the organisation offers to its customers; the service catalogue lists these.",
        _object(
            {
                "description": {"type": "string", "maxLength": 2000},
                "service_hours": {"type": "string", "maxLength": 200, "examples": ["Mon-Fri 08:00-18:00 CET"]},
                "sla_tier": {"type": "string", "enum": ["gold", "silver", "bronze"]},
                "customers": {"type": "array", "items": {"type": "string"}},
            }
        ),
        builtin=True,
    ),
    CIType(
        "application",
        "Application",
        "A software product, as designed (its running copies are application instances).",
        _object({"vendor": {"type": "string"}, "language": {"type": "string"}, "repository": {"type": "string"}}),
        builtin=True,
    ),
    CIType(
        "application_instance",
        "Application instance",
        "One deployed, running copy of an application.",
        _object({"environment": _ENVIRONMENT, "url": {"type": "string", "format": "uri"}}),
        builtin=True,
    ),
    CIType(
        "server",
        "Server",
        "A physical server.",
        _object(
            {
                "os": {"type": "string"},
                "cpu_cores": {"type": "integer", "minimum": 1},
                "memory_gb": {"type": "number", "exclusiveMinimum": 0},
                "environment": _ENVIRONMENT,
            }
        ),
        builtin=True,
    ),
    CIType(
        "virtual_machine",
        "Virtual machine",
        "A virtual machine on a hypervisor or in a cloud.",
        _object(
            {
                "os": {"type": "string"},
                "cpu_cores": {"type": "integer", "minimum": 1},
                "memory_gb": {"type": "number", "exclusiveMinimum": 0},
                "hypervisor": {"type": "string"},
                "environment": _ENVIRONMENT,
            }
        ),
        builtin=True,
    ),
    CIType(
        "container_workload",
        "Container workload",
        "A containerised workload (a Kubernetes deployment, a service on a container platform).",
        _object(
            {
                "image": {"type": "string"},
                "replicas": {"type": "integer", "minimum": 0},
                "namespace": {"type": "string"},
                "environment": _ENVIRONMENT,
            }
        ),
        builtin=True,
    ),
    CIType(
        "database",
        "Database",
        "A database (the data store, not the server it runs on).",
        _object(
            {
                "engine": {
                    "type": "string",
                    "enum": ["postgresql", "mysql", "mariadb", "oracle", "sqlserver", "mongodb", "other"],
                },
                "engine_version": {"type": "string"},
                "size_gb": {"type": "number", "minimum": 0},
            }
        ),
        builtin=True,
    ),
    CIType(
        "network_device",
        "Network device",
        "A router, switch, firewall, load balancer or access point.",
        _object(
            {
                "role": {"type": "string", "enum": ["router", "switch", "firewall", "load_balancer", "access_point"]},
                "ports": {"type": "integer", "minimum": 0},
                "management_ip": {"type": "string", "format": "ipv4"},
            }
        ),
        builtin=True,
    ),
    CIType(
        "storage",
        "Storage",
        "A storage system or volume.",
        _object(
            {
                "kind": {"type": "string", "enum": ["san", "nas", "object", "block"]},
                "capacity_tb": {"type": "number", "minimum": 0},
            }
        ),
        builtin=True,
    ),
    CIType(
        "document",
        "Document",
        "A controlled document: a plan, contract, licence, policy, procedure or service level agreement.",
        _object(
            {
                "document_kind": {
                    "type": "string",
                    "enum": ["plan", "contract", "licence", "policy", "procedure", "sla"],
                },
                "document_status": {"type": "string", "enum": ["draft", "approved", "obsolete"]},
                "review_date": {"type": "string", "format": "date"},
                "url": {"type": "string", "format": "uri"},
            },
            required=("document_kind",),
        ),
        builtin=True,
    ),
    CIType(
        "location",
        "Location",
        "A site: a data centre, an office, a cloud region.",
        _object(
            {
                "kind": {"type": "string", "enum": ["datacentre", "office", "cloud_region"]},
                "address": {"type": "string"},
                "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
            }
        ),
        builtin=True,
    ),
)


def define_type(*, name: str, label: str, description: str, attribute_schema: dict[str, Any]) -> CIType:
    """A new CI type from the API: a valid name and a valid JSON Schema for an object."""
    problems: list[tuple[str, str]] = []
    if not TYPE_NAME.match(name):
        problems.append(("name", "lower-case letters, digits and _, starting with a letter, 2 to 50 characters"))
    try:
        Draft202012Validator.check_schema(attribute_schema)
    except SchemaError as exc:
        problems.append(("attribute_schema", f"not a valid JSON Schema: {exc.message}"))
    else:
        if attribute_schema.get("type", "object") != "object":
            problems.append(("attribute_schema", "must describe an object (type: object)"))
    if problems:
        raise RuleViolation.of_fields(problems)
    return CIType(name=name, label=label.strip() or name, description=description, attribute_schema=attribute_schema)


def attribute_errors(ci_type: CIType, attributes: dict[str, Any]) -> list[tuple[str, str]]:
    """Each way `attributes` breaks the type's schema, as (`attributes.<path>`, reason)."""
    validator = Draft202012Validator(ci_type.attribute_schema, format_checker=FormatChecker())
    found = []
    for error in sorted(validator.iter_errors(attributes), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required" and not path:
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = missing
        found.append((f"attributes.{path}" if path else "attributes", error.message))
    return found


def check_attributes(ci_type: CIType, attributes: dict[str, Any]) -> None:
    if errors := attribute_errors(ci_type, attributes):
        raise RuleViolation.of_fields(errors)
