"""Notification rules: what they match, who they address (an address as given, a user name with
the recipient domain, nothing otherwise), what is refused when a rule is made; and the templates
shipped with the service (both parts, the HTML one autoescaped, the sandbox)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from services.notify.domain.notifications import (
    MessageStatus,
    Rule,
    address_of,
    check_recipient_fields,
    check_template_name,
)
from services.notify.store import mail
from shared.errors import RuleViolation

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def rule(**values: Any) -> Rule:
    base: dict[str, Any] = {
        "id": uuid4(),
        "name": "r",
        "event_pattern": "incident.resolved.v1",
        "template": "incident_resolved",
        "recipient_fields": ["data.caller"],
        "created_by": "ada",
        "created_at": NOW,
    }
    return Rule.new(**(base | values))


@pytest.mark.parametrize(
    ("value", "domain", "address"),
    [
        ("ada@example.com", "", "ada@example.com"),
        ("  ada@example.com ", "corp.test", "ada@example.com"),
        ("ada", "corp.test", "ada@corp.test"),
        ("ada.lovelace", "corp.test", "ada.lovelace@corp.test"),
        ("ada", "", None),
        ("ada lovelace", "corp.test", None),
        ("ada@", "corp.test", None),
        ("@example.com", "", None),
        ("ada@localhost", "", None),
        ("", "corp.test", None),
        (None, "corp.test", None),
        (42, "corp.test", None),
        ("a" * 65, "corp.test", None),
        ("ada@example.com\r\nBcc: eve@evil.test", "", None),
    ],
)
def test_a_field_value_becomes_an_address_only_when_it_is_one(value: Any, domain: str, address: str | None) -> None:
    assert address_of(value, domain) == address


def test_recipients_are_the_distinct_addresses_of_the_fields_in_order() -> None:
    r = rule(recipient_fields=["data.assignee", "data.caller", "data.watcher.email", "data.missing"])
    data = {"assignee": "bob", "caller": "Bob@corp.test", "watcher": {"email": "eve@example.com"}}
    assert r.recipients(data, "corp.test") == ["bob@corp.test", "eve@example.com"]
    assert r.recipients(data, "") == ["Bob@corp.test", "eve@example.com"]
    assert r.recipients(None, "corp.test") == []
    assert r.recipients({"caller": None}, "corp.test") == []


def test_a_rule_matches_its_pattern_and_filter_while_enabled() -> None:
    r = rule(event_pattern="incident.*.v1", data_filter={"priority": 1})
    assert r.matches("incident.resolved.v1", {"priority": 1})
    assert not r.matches("incident.resolved.v1", {"priority": 2})
    assert not r.matches("change.resolved.v1", {"priority": 1})
    assert rule().matches("incident.resolved.v1", {})
    r.enabled = False
    assert not r.matches("incident.resolved.v1", {"priority": 1})


@pytest.mark.parametrize(
    ("values", "field", "says"),
    [
        ({"event_pattern": "incident..v1"}, "event_pattern", "routing-key pattern"),
        ({"template": "../etc/passwd"}, "template", "a template name: 1 to 100 characters"),
        ({"template": ""}, "template", "a template name"),
        ({"template": "x" * 101}, "template", "a template name"),
        ({"recipient_fields": []}, "recipient_fields", "a rule names 1 to 10 recipient fields"),
        ({"recipient_fields": ["caller"]}, "recipient_fields", "'caller' is not a field of the event's data"),
        ({"recipient_fields": ["data."]}, "recipient_fields", "'data.' is not a field"),
        ({"recipient_fields": ["data.a.b.c.d.e.f"]}, "recipient_fields", "is not a field"),
        ({"recipient_fields": ["data.caller"] * 11}, "recipient_fields", "a rule names 1 to 10 recipient fields"),
        ({"recipient_fields": ["x" * 100]}, "recipient_fields", f"{'x' * 80!r} is not a field"),
    ],
)
def test_a_bad_rule_is_refused(values: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        rule(**values)
    assert refused.value.extensions["errors"][0]["field"] == field
    assert says in refused.value.detail


def test_the_checks_answer_what_they_were_given() -> None:
    assert check_template_name("incident_resolved") == "incident_resolved"
    assert check_recipient_fields(["data.caller"] * 10) == ["data.caller"] * 10
    assert [s.value for s in MessageStatus] == ["pending", "sent", "failed", "held"]


def context(**data: Any) -> dict[str, Any]:
    return {"data": data, "event": {}, "desk": "Service Desk"}


def test_the_shipped_templates_render_both_parts_and_escape_only_the_html() -> None:
    out = mail.render("incident_resolved", "en", context(number="INC1", title="<script>x</script>", caller="ada"))
    assert out.subject == "INC1 resolved: <script>x</script>"
    assert '"<script>x</script>"' in out.text
    assert "&lt;script&gt;x&lt;/script&gt;" in out.html and "<script>" not in out.html
    assert "Hello ada," in out.text and "Service Desk" in out.html
    assert mail.template_exists("incident_assigned") and mail.template_exists("incident_resolved")
    assert not mail.template_exists("nothing_like_it")


def test_an_unknown_locale_falls_back_to_en_and_a_missing_template_is_refused() -> None:
    assert mail.render("incident_assigned", "fr", context(number="INC2")).subject == "INC2 assigned to you"
    with pytest.raises(RuleViolation):
        mail.render("nothing_like_it", "en", context())


def test_the_subject_is_one_line() -> None:
    out = mail.render("incident_resolved", "en", context(number="INC1\r\nBcc: eve@evil.test", title="t"))
    assert "\n" not in out.subject and "\r" not in out.subject


def test_the_sandbox_refuses_unsafe_attribute_access(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "en"
    folder.mkdir()
    for suffix in ("subject.txt", "txt", "html"):
        (folder / f"evil.{suffix}").write_text("{{ data.__class__.__mro__[1].__subclasses__() }}")
    monkeypatch.setattr(mail, "TEMPLATES", tmp_path)
    mail._environments.cache_clear()
    try:
        with pytest.raises(RuleViolation):
            mail.render("evil", "en", context())
    finally:
        monkeypatch.undo()
        mail._environments.cache_clear()
