"""Report governance rules without I/O: which version is in force, transitions, recipients, hashes, retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.reporting.domain import agreements as domain
from services.reporting.domain.agreements import Recipient
from services.reporting.domain.distribution import RetryPolicy
from shared.errors import InvalidTransition, NotFound, RuleViolation

AT = datetime(2026, 10, 1, tzinfo=UTC)
HOOK = Recipient("https://hooks.example.org/r", "webhook")


def draft(
    latest: domain.AgreementVersion | None = None, parties: tuple[str, ...] = ("board",)
) -> domain.AgreementVersion:
    return domain.propose(
        latest,
        report="incidents",
        owner="slm",
        agreed_with=parties,
        distribution_list=[HOOK],
        definition={"name": "incidents"},
        reason="",
        by="sam",
        at=AT,
    )


def test_a_draft_is_never_in_force_and_a_revision_leaves_the_agreed_version_in_force() -> None:
    v1 = draft()
    assert (v1.version, v1.status, domain.in_force([v1]), domain.scheduled([v1])) == (1, "draft", None, None)
    v2 = domain.agree(v1, report="incidents", agreed_with=None, agreed_at=None, reason="", by="sam", at=AT)
    assert (v2.version, v2.status, v2.agreed_with, v2.agreed_at, v2.distribution_list) == (
        2,
        "agreed",
        ("board",),
        AT,
        (HOOK,),
    )
    v3 = draft(v2)
    assert domain.scheduled([v1, v2, v3]) == v2
    v4 = domain.retire(v3, report="incidents", reason="gone", by="sam", at=AT)
    assert (v4.version, v4.status, domain.in_force([v1, v2, v3, v4]), domain.scheduled([v1, v2, v3, v4])) == (
        4,
        "retired",
        v4,
        None,
    )
    assert domain.allowed_actions(v4) == ["propose"]


def test_transitions_that_do_not_fit_are_refused() -> None:
    with pytest.raises(NotFound):
        domain.agree(None, report="x", agreed_with=None, agreed_at=None, reason="", by="s", at=AT)
    agreed = domain.agree(draft(), report="incidents", agreed_with=None, agreed_at=None, reason="", by="s", at=AT)
    with pytest.raises(InvalidTransition) as refused:
        domain.agree(agreed, report="incidents", agreed_with=None, agreed_at=None, reason="", by="s", at=AT)
    assert refused.value.extensions["allowed_actions"] == ["propose", "retire"]
    with pytest.raises(RuleViolation) as nobody:
        domain.agree(draft(parties=()), report="incidents", agreed_with=None, agreed_at=None, reason="", by="s", at=AT)
    assert nobody.value.extensions["errors"][0]["field"] == "agreed_with"
    with pytest.raises(RuleViolation):
        domain.agree(draft(), report="i", agreed_with=None, agreed_at=AT + timedelta(days=1), reason="", by="s", at=AT)


@pytest.mark.parametrize(
    ("channel", "recipient", "ok"),
    [
        ("webhook", "https://hooks.example.org/x?token=1", True),
        ("webhook", "http://127.0.0.1:8080/hook", True),
        ("webhook", "ftp://example.org/x", False),
        ("webhook", "hooks.example.org/x", False),
        ("webhook", "https://user:secret@example.org/x", False),
        ("email", "ops@example.org", False),  # no e-mail channel: it would not deliver
    ],
)
def test_recipients_are_reachable_urls_of_a_known_channel(channel: str, recipient: str, ok: bool) -> None:
    assert (domain.recipient_problem(channel, recipient) is None) is ok


def test_the_content_hash_does_not_depend_on_key_order_but_on_every_value() -> None:
    a = {"report": "x", "rows": [{"n": 1, "name": "Mail"}], "totals": {"n": 1}}
    b = {"totals": {"n": 1}, "rows": [{"name": "Mail", "n": 1}], "report": "x"}
    assert domain.content_sha256(a) == domain.content_sha256(b)
    assert domain.content_sha256(a) != domain.content_sha256({**a, "totals": {"n": 2}})
    assert len(domain.content_sha256(a)) == 64


def test_retries_double_up_to_the_longest_wait_then_stop() -> None:
    policy = RetryPolicy(first_delay=timedelta(minutes=5), max_delay=timedelta(minutes=30), max_attempts=5)
    waits = [policy.after_failure(n, AT) for n in range(1, 6)]
    assert waits == [AT + timedelta(minutes=m) for m in (5, 10, 20, 30)] + [None]
