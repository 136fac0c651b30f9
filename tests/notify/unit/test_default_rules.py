"""The default rules seeded by the migrations: each reacts to an event type that exists, names
recipients that are fields of that event's contract, and has its three template files, which
render an example of the event (generated from the contract) without reading a field the event
does not carry (other than the optional ones a template tests for)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from jinja2 import FileSystemLoader, Undefined
from jinja2.sandbox import SandboxedEnvironment
from polyfactory.factories.pydantic_factory import ModelFactory

from services.notify.domain.recipients import Kind, Recipient
from services.notify.store import mail
from shared.events import EVENT_TYPES

VERSIONS = Path(__file__).resolve().parents[3] / "services" / "notify" / "migrations" / "versions"
OPTIONAL = {"survey_url"}
"""Fields a template reads only under an `if`, for events that may carry them later."""


def seeded() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in sorted(VERSIONS.glob("*.py")):
        spec = importlib.util.spec_from_file_location(path.stem.replace("-", "_"), path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        rules += getattr(module, "DEFAULT_RULES", [])
    return rules


RULES = seeded()
missing: list[str] = []


class Recording(Undefined):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        missing.append(str(self._undefined_name))


def test_the_defaults_a_service_desk_expects_are_seeded() -> None:
    patterns = {r["event_pattern"] for r in RULES}
    assert patterns >= {
        "incident.created.v1",
        "request.submitted.v1",
        "incident.assigned.v1",
        "sla.warning.v1",
        "sla.breached.v1",
        "incident.resolved.v1",
        "change.assessed.v1",
        "change.approved.v1",
        "change.rejected.v1",
        "change.scheduled.v1",
        "change.failed.v1",
        "contract.expiring.v1",
        "report.run_completed.v1",
        "supplier.access_review_due.v1",
        "supplier.access_expired.v1",
    }
    mandatory = {r["event_pattern"] for r in RULES if r.get("mandatory")}
    assert {"sla.breached.v1", "change.assessed.v1"} <= mandatory
    assert "incident.created.v1" not in mandatory
    for pattern in ("supplier.access_review_due.v1", "supplier.access_expired.v1"):
        [rule] = [r for r in RULES if r["event_pattern"] == pattern]
        assert rule["recipients"] == [{"kind": "field", "value": "data.owner"}] and not rule["mandatory"]


@pytest.mark.parametrize("rule", RULES, ids=[r["template"] for r in RULES])
def test_a_default_rule_fits_its_event_and_its_templates_render(rule: dict[str, Any]) -> None:
    contract = EVENT_TYPES[rule["event_pattern"]]
    fields = set(contract.model_fields)
    recipients = [Recipient.of("field", f) for f in rule["recipient_fields"]]
    recipients += [Recipient.of(r["kind"], r["value"]) for r in rule.get("recipients", [])]
    for recipient in recipients:
        if recipient.kind in (Kind.FIELD, Kind.SUPPLIER_CONTACT) or recipient.value.startswith("data."):
            assert recipient.value.removeprefix("data.") in fields, f"{contract.__name__} has no {recipient.value}"
    assert mail.template_exists(rule["template"])

    data = ModelFactory.create_factory(contract, __random_seed__=16).build().model_dump(mode="json")
    env = SandboxedEnvironment(loader=FileSystemLoader(str(mail.TEMPLATES / "en")), undefined=Recording)
    missing.clear()
    context = {"data": data, "event": {"type": contract.routing_key}, "desk": "Desk <desk@x.test>"}
    for suffix in ("subject.txt", "txt", "html"):
        text = env.get_template(f"{rule['template']}.{suffix}").render(context)
        assert text.strip()
    assert set(missing) <= OPTIONAL, f"{rule['template']} reads what {contract.__name__} lacks: {set(missing)}"
    names = next(data[k] for k in ("number", "ticket_number", "report") if k in data)
    assert str(names) in mail.render(rule["template"], "en", context).subject
