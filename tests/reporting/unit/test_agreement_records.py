"""A report agreement's versions as recorded (every field read back), the distribution list's
refusals by field, the canonical bytes a run's hash is taken over, report periods and filters, and
the fact tables' merge rules."""

from __future__ import annotations

import string
import time
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from services.reporting.domain import agreements as domain
from services.reporting.domain.agreements import AgreementVersion, Recipient
from services.reporting.domain.facts import CONTRACTS, INCIDENTS, FactTable, Merge, Patch
from services.reporting.domain.report_filters import ReportFilters, last_complete_period
from shared.errors import InvalidTransition, NotFound, RuleViolation

AT = datetime(2026, 10, 1, 12, tzinfo=UTC)
HOOK = Recipient("https://hooks.example.org/r", "webhook")
OTHER = Recipient("https://hooks.example.org/other", "webhook")


def propose(latest: AgreementVersion | None = None, **overrides: object) -> AgreementVersion:
    values: dict[str, object] = {
        "report": "incidents",
        "owner": "slm",
        "agreed_with": ["board"],
        "distribution_list": [HOOK],
        "definition": {"name": "incidents"},
        "reason": "first issue",
        "by": "sam",
        "at": AT,
    }
    values.update(overrides)
    return domain.propose(latest, **values)  # type: ignore[arg-type]


def fields_of(raised: pytest.ExceptionInfo[RuleViolation]) -> list[str]:
    assert isinstance(raised.value.detail, str) and raised.value.detail
    return [e["field"] for e in raised.value.extensions["errors"]]


def test_a_proposal_records_everything_given_as_a_draft_of_the_next_version() -> None:
    definition = {"name": "incidents", "columns": ["a"]}
    v1 = propose(definition=definition)
    definition["name"] = "changed afterwards"
    assert v1.as_record() == {
        "report": "incidents",
        "version": 1,
        "status": "draft",
        "owner": "slm",
        "agreed_with": ["board"],
        "agreed_at": None,
        "distribution_list": [{"recipient": "https://hooks.example.org/r", "channel": "webhook"}],
        "definition": {"name": "incidents", "columns": ["a"]},
        "reason": "first issue",
        "recorded_by": "sam",
        "recorded_at": AT,
    }
    assert propose(v1, owner="cio").version == 2


def test_agreeing_records_the_parties_given_the_date_and_who_recorded_it_why() -> None:
    later = AT + timedelta(days=2)
    agreed = domain.agree(
        propose(), report="incidents", agreed_with=["board", "cab"], agreed_at=AT, reason="signed", by="ann", at=later
    )
    record = agreed.as_record()
    assert (record["version"], record["status"], record["agreed_with"], record["agreed_at"]) == (
        2,
        "agreed",
        ["board", "cab"],
        AT,
    )
    assert (record["reason"], record["recorded_by"], record["recorded_at"]) == ("signed", "ann", later)
    assert (record["owner"], record["definition"]) == ("slm", {"name": "incidents"})


def test_an_agreement_may_be_dated_now_but_not_later() -> None:
    draft = propose()
    assert domain.agree(draft, report="i", agreed_with=None, agreed_at=AT, reason="", by="s", at=AT).agreed_at == AT
    with pytest.raises(RuleViolation) as raised:
        domain.agree(draft, report="i", agreed_with=None, agreed_at=AT + timedelta(seconds=1), reason="", by="s", at=AT)
    assert fields_of(raised) == ["agreed_at"]


def test_agreeing_with_an_empty_list_of_parties_is_refused() -> None:
    with pytest.raises(RuleViolation) as raised:
        domain.agree(propose(), report="i", agreed_with=[], agreed_at=None, reason="", by="s", at=AT)
    assert fields_of(raised) == ["agreed_with"]


def test_retiring_records_why_and_who_and_needs_a_reason() -> None:
    draft = propose()
    retired = domain.retire(draft, report="incidents", reason="no longer needed", by="ann", at=AT + timedelta(days=1))
    assert (retired.version, retired.status, retired.reason, retired.recorded_by, retired.recorded_at) == (
        2,
        "retired",
        "no longer needed",
        "ann",
        AT + timedelta(days=1),
    )
    with pytest.raises(RuleViolation) as raised:
        domain.retire(draft, report="incidents", reason="", by="ann", at=AT)
    assert fields_of(raised) == ["reason"]


def test_acting_on_a_report_without_an_agreement_is_not_found_with_a_reason() -> None:
    with pytest.raises(NotFound) as raised:
        domain.retire(None, report="incidents", reason="r", by="s", at=AT)
    assert raised.value.detail


def test_a_refused_action_says_the_state_and_what_is_allowed() -> None:
    retired = domain.retire(propose(), report="incidents", reason="r", by="s", at=AT)
    with pytest.raises(InvalidTransition) as raised:
        domain.retire(retired, report="incidents", reason="r", by="s", at=AT)
    assert raised.value.extensions == {"state": "retired", "allowed_actions": ["propose"]}


def test_a_draft_may_be_agreed_revised_or_retired() -> None:
    assert domain.allowed_actions(propose()) == ["agree", "propose", "retire"]
    assert domain.allowed_actions(None) == ["propose"]


@pytest.mark.parametrize(
    "recipient",
    [
        "https://user@example.org/x",  # a user name alone is a credential too
        "https://:secret@example.org/x",
        "https://example.org/x#part",
    ],
)
def test_a_webhook_url_with_credentials_or_a_fragment_is_refused(recipient: str) -> None:
    assert domain.recipient_problem("webhook", recipient)


def test_every_bad_entry_of_a_distribution_list_is_named_by_its_field() -> None:
    entries = [
        Recipient("ops@example.org", "email"),
        Recipient("ftp://example.org", "webhook"),
        HOOK,
        HOOK,
        OTHER,
    ]
    with pytest.raises(RuleViolation) as raised:
        domain.check_distribution_list(entries)
    assert fields_of(raised) == [
        "distribution_list.0.channel",
        "distribution_list.1.recipient",
        "distribution_list.3.recipient",
    ]
    assert all(e["reason"] for e in raised.value.extensions["errors"])


def test_the_same_url_on_two_channels_is_not_listed_twice_and_a_clean_list_passes() -> None:
    domain.check_distribution_list([HOOK, OTHER])
    domain.check_distribution_list([])


def test_the_hashed_bytes_are_sorted_compact_utf8_json() -> None:
    assert domain.canonical_json({"b": [1, 2], "a": "Zürich"}) == '{"a":"Zürich","b":[1,2]}'.encode()
    assert domain.content_sha256({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


@pytest.mark.parametrize(
    ("frequency", "now", "period"),
    [
        ("daily", datetime(2026, 10, 7, 15, 30, 12, 5), (datetime(2026, 10, 6), datetime(2026, 10, 7))),
        ("daily", datetime(2026, 10, 7), (datetime(2026, 10, 6), datetime(2026, 10, 7))),
        # 2026-10-07 is a Wednesday: the last whole ISO week is Monday 09-28 to Monday 10-05
        ("weekly", datetime(2026, 10, 7, 8), (datetime(2026, 9, 28), datetime(2026, 10, 5))),
        ("weekly", datetime(2026, 10, 5), (datetime(2026, 9, 28), datetime(2026, 10, 5))),  # on a Monday
        ("monthly", datetime(2026, 10, 7, 8), (datetime(2026, 9, 1), datetime(2026, 10, 1))),
        ("monthly", datetime(2026, 3, 1), (datetime(2026, 2, 1), datetime(2026, 3, 1))),
        ("monthly", datetime(2026, 1, 20), (datetime(2025, 12, 1), datetime(2026, 1, 1))),
    ],
)
def test_the_last_complete_period_ends_at_the_start_of_the_current_one(
    frequency: str, now: datetime, period: tuple[datetime, datetime]
) -> None:
    start, end = (p.replace(tzinfo=UTC) for p in period)
    assert last_complete_period(frequency, now.replace(tzinfo=UTC)) == (start, end)  # type: ignore[arg-type]


def test_the_period_is_taken_in_utc_whatever_the_time_zone_of_now() -> None:
    # 01:00 on the 8th in UTC+2 is 23:00 on the 7th in UTC: yesterday is the 6th.
    now = datetime(2026, 10, 8, 1, tzinfo=timezone(timedelta(hours=2)))
    assert last_complete_period("daily", now) == (datetime(2026, 10, 6, tzinfo=UTC), datetime(2026, 10, 7, tzinfo=UTC))


def test_the_period_does_not_depend_on_the_servers_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    # At 12:00 UTC it is already 02:00 the next day on a server set to UTC+14 (POSIX "TST-14").
    monkeypatch.setenv("TZ", "TST-14")
    time.tzset()
    try:
        now = datetime(2026, 10, 7, 12, tzinfo=UTC)
        assert last_complete_period("daily", now) == (
            datetime(2026, 10, 6, tzinfo=UTC),
            datetime(2026, 10, 7, tzinfo=UTC),
        )
    finally:
        monkeypatch.undo()
        time.tzset()


def test_filters_read_back_as_the_query_parameters_they_came_from() -> None:
    service, supplier = UUID(int=5), UUID(int=6)
    filters = ReportFilters(
        start=AT,
        end=AT + timedelta(days=7),
        service_id=service,
        group="ops",
        priority=2,
        supplier_id=supplier,
        period="week",
    )
    assert filters.as_dict() == {
        "from": AT.isoformat(),
        "to": (AT + timedelta(days=7)).isoformat(),
        "service_id": str(service),
        "group": "ops",
        "priority": 2,
        "supplier_id": str(supplier),
        "period": "week",
    }
    assert ReportFilters().as_dict() == dict.fromkeys(
        ("from", "to", "service_id", "group", "priority", "supplier_id", "period")
    )


def _names(count: int) -> tuple[str, ...]:
    letters = string.ascii_lowercase
    return tuple(f"s{letters[i // 676]}{letters[i // 26 % 26]}{letters[i % 26]}" for i in range(count))


def test_a_lifecycle_has_at_most_998_states() -> None:
    FactTable("t", {"id": Merge.KEY, "status": Merge.LATEST}, {"status": _names(998)})
    with pytest.raises(ValueError, match="998"):
        FactTable("t", {"id": Merge.KEY, "status": Merge.LATEST}, {"status": _names(999)})


def test_a_tables_key_is_its_key_columns_in_order_and_a_patch_names_its_columns() -> None:
    assert INCIDENTS.key == ("incident_id",)
    table = FactTable("pairs", {"a": Merge.KEY, "v": Merge.ADD, "b": Merge.KEY})
    assert table.key == ("a", "b")
    patch = Patch(CONTRACTS, {"contract_id": 1, "status": "active", "ends_on": None}, AT, "e1")
    assert patch.columns == ("contract_id", "status", "ends_on")
