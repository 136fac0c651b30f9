"""Transactional surveys, pure: sampling, the per-person throttle, the signed link (signature and
expiry), the single answer and the low-score policy."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.incident.domain.surveys import (
    COMMENT_MAX,
    Decision,
    LinkRefusal,
    Survey,
    SurveyAnswered,
    SurveyIssued,
    SurveyPolicy,
    SurveyStatus,
    TicketKind,
    decide,
    sample_point,
    sampled,
    sign_link,
    throttled,
    verify_link,
)
from shared.errors import RuleViolation

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SECRET = b"survey-secret-for-tests"
POLICY = SurveyPolicy(sampling_rate=1.0, throttle=timedelta(days=30), lifetime=timedelta(days=14), low_score=2)
TICKET = UUID("00000000-0000-4000-8000-000000000001")


def _survey(**changes: object) -> Survey:
    survey = Survey.issue(
        survey_id=uuid4(),
        ticket_kind=TicketKind.INCIDENT,
        ticket_id=TICKET,
        ticket_number="INC0000001",
        respondent="  alice ",
        service_id=None,
        now=NOW,
        policy=POLICY,
    )
    survey.number = "SRV0000001"
    for name, value in changes.items():
        setattr(survey, name, value)
    return survey


# ---------------------------------------------------------------------------- the policy


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sampling_rate": -0.01}, "sampling rate"),
        ({"sampling_rate": 1.01}, "sampling rate"),
        ({"throttle": timedelta(seconds=-1)}, "throttle"),
        ({"lifetime": timedelta(0)}, "positive"),
        ({"low_score": -1}, "low-score"),
        ({"low_score": 5}, "low-score"),
    ],
)
def test_a_policy_out_of_bounds_is_refused(changes: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "sampling_rate": 0.5,
        "throttle": timedelta(days=1),
        "lifetime": timedelta(days=1),
        "low_score": 2,
    }
    with pytest.raises(ValueError, match=message):
        SurveyPolicy(**{**values, **changes})  # type: ignore[arg-type]


def test_the_bounds_themselves_are_a_policy() -> None:
    SurveyPolicy(sampling_rate=0, throttle=timedelta(0), lifetime=timedelta(seconds=1), low_score=0)
    SurveyPolicy(sampling_rate=1, throttle=timedelta(0), lifetime=timedelta(seconds=1), low_score=4)


# ---------------------------------------------------------------------------- sampling


def test_the_sample_point_is_the_hash_of_the_ticket_and_stable() -> None:
    assert sample_point(TICKET) == sample_point(UUID(str(TICKET)))
    assert 0 <= sample_point(TICKET) < 1
    # sha256 of the id's 16 bytes, first 8 bytes big-endian over 2**64: a value anyone can recompute.
    expected = int.from_bytes(hashlib.sha256(TICKET.bytes).digest()[:8], "big") / 2**64
    assert sample_point(TICKET) == expected == pytest.approx(0.52594, abs=1e-5)


def test_sampling_asks_about_the_rate_of_tickets() -> None:
    tickets = [UUID(int=i) for i in range(4000)]
    share = sum(sampled(t, 0.25) for t in tickets) / len(tickets)
    assert 0.22 < share < 0.28
    assert not any(sampled(t, 0.0) for t in tickets)
    assert all(sampled(t, 1.0) for t in tickets)


def test_a_ticket_exactly_at_the_rate_is_not_sampled() -> None:
    point = sample_point(TICKET)
    assert not sampled(TICKET, point)
    assert sampled(TICKET, point + 1e-9)


# ---------------------------------------------------------------------------- the throttle


def test_the_throttle_holds_a_person_asked_within_it() -> None:
    week = timedelta(days=7)
    assert not throttled(None, NOW, week)
    assert throttled(NOW - week + timedelta(seconds=1), NOW, week)
    assert not throttled(NOW - week, NOW, week)  # exactly the throttle ago: asked again
    assert not throttled(NOW - week - timedelta(seconds=1), NOW, week)
    assert not throttled(NOW, NOW, timedelta(0))


def _decide(**changes: object) -> Decision:
    values: dict[str, object] = {
        "ticket_id": TICKET,
        "person": "alice",
        "already_surveyed": False,
        "last_issued_at": None,
        "now": NOW,
        "policy": POLICY,
    }
    return decide(**{**values, **changes})  # type: ignore[arg-type]


def test_decide_in_its_order() -> None:
    assert _decide() is Decision.ISSUE
    assert _decide(already_surveyed=True, person=None) is Decision.ALREADY_SURVEYED
    assert _decide(person=None) is Decision.NO_PERSON
    assert _decide(person="  ") is Decision.NO_PERSON
    never = SurveyPolicy(sampling_rate=0, throttle=timedelta(days=1), lifetime=timedelta(days=1), low_score=0)
    assert _decide(policy=never, last_issued_at=NOW) is Decision.NOT_SAMPLED
    assert _decide(last_issued_at=NOW - timedelta(days=1)) is Decision.THROTTLED
    assert _decide(last_issued_at=NOW - timedelta(days=30)) is Decision.ISSUE


# ---------------------------------------------------------------------------- the link


def test_a_signed_link_verifies_to_its_survey_until_it_expires() -> None:
    survey_id = uuid4()
    expires = NOW + timedelta(days=14)
    token = sign_link(survey_id, expires, SECRET)
    head, stamp, mac = token.split(".")
    assert head == survey_id.hex and stamp == str(int(expires.timestamp()))
    assert len(mac) == 43 and "=" not in mac
    assert verify_link(token, NOW, SECRET) == (survey_id, expires)
    assert verify_link(token, expires - timedelta(seconds=1), SECRET) == (survey_id, expires)
    assert verify_link(token, expires, SECRET) is LinkRefusal.EXPIRED


def test_a_link_signed_with_another_secret_or_altered_is_forged() -> None:
    survey_id, expires = uuid4(), NOW + timedelta(days=1)
    token = sign_link(survey_id, expires, SECRET)
    assert verify_link(token, NOW, b"another secret") is LinkRefusal.FORGED
    later = sign_link(survey_id, expires + timedelta(days=100), SECRET).split(".")[1]
    head, _, mac = token.split(".")
    assert verify_link(f"{head}.{later}.{mac}", NOW, SECRET) is LinkRefusal.FORGED
    other = uuid4().hex
    assert verify_link(f"{other}.{token.split('.', 1)[1]}", NOW, SECRET) is LinkRefusal.FORGED
    # A forged token past its expiry is still only forged: expiry is not told before the signature.
    assert verify_link(token, NOW + timedelta(days=2), b"another secret") is LinkRefusal.FORGED


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        f"{'0' * 31}.1.x",
        f"{'0' * 33}.1.x",
        f"{'g' * 32}.1.x",
        f"{'0' * 32}.-1.x",
        f"{'0' * 32}.x1.x",
        f"{'0' * 32}.{'9' * 13}.x",
    ],
)
def test_a_malformed_link_is_refused_as_malformed(token: str) -> None:
    assert verify_link(token, NOW, SECRET) is LinkRefusal.MALFORMED


def test_a_twelve_digit_expiry_is_well_formed() -> None:
    assert verify_link(f"{'0' * 32}.{'9' * 12}.x", NOW, SECRET) is LinkRefusal.FORGED


def test_a_link_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        sign_link(uuid4(), NOW, b"")


# ---------------------------------------------------------------------------- the survey


def test_issue_records_who_is_asked_about_what_until_when() -> None:
    survey = _survey()
    assert survey.respondent == "alice"
    assert survey.ticket_kind is TicketKind.INCIDENT and survey.ticket_number == "INC0000001"
    assert survey.issued_at == NOW and survey.expires_at == NOW + timedelta(days=14)
    assert survey.status is SurveyStatus.ISSUED and survey.version == 1
    assert survey.score is None and survey.answered_at is None and survey.comment == ""
    assert survey.pending_events == [SurveyIssued(survey.id)]


def test_status_expires_at_the_expiry() -> None:
    survey = _survey()
    assert survey.status_at(survey.expires_at - timedelta(seconds=1)) is SurveyStatus.ISSUED
    assert survey.status_at(survey.expires_at) is SurveyStatus.EXPIRED
    survey.answer(4, "", NOW)
    assert survey.status_at(survey.expires_at + timedelta(days=1)) is SurveyStatus.ANSWERED


def test_an_answer_is_taken_once() -> None:
    survey = _survey()
    at = NOW + timedelta(hours=1)
    survey.answer(5, "  quick and kind  ", at)
    assert (survey.score, survey.comment, survey.answered_at) == (5, "quick and kind", at)
    assert survey.status is SurveyStatus.ANSWERED and survey.version == 2
    assert survey.pending_events[-1] == SurveyAnswered(survey.id)
    with pytest.raises(RuleViolation, match="SRV0000001 is answered: it takes no answer") as refused:
        survey.answer(1, "", at)
    assert refused.value.extensions["errors"][0]["field"] == "score"
    assert survey.score == 5 and survey.version == 2 and len(survey.pending_events) == 2


def test_no_answer_after_expiry() -> None:
    survey = _survey()
    with pytest.raises(RuleViolation, match="is expired"):
        survey.answer(3, "", survey.expires_at)
    assert survey.status is SurveyStatus.ISSUED and survey.score is None


@pytest.mark.parametrize("score", [0, 6, -1])
def test_the_score_is_one_to_five(score: int) -> None:
    with pytest.raises(RuleViolation, match="1 to 5") as refused:
        _survey().answer(score, "", NOW)
    assert refused.value.extensions["errors"][0]["field"] == "score"


@pytest.mark.parametrize("score", [1, 5])
def test_the_ends_of_the_scale_are_scores(score: int) -> None:
    survey = _survey()
    survey.answer(score, "", NOW)
    assert survey.score == score


def test_the_comment_is_bounded() -> None:
    _survey().answer(3, "x" * COMMENT_MAX, NOW)
    _survey().answer(3, " " + "x" * COMMENT_MAX + " ", NOW)  # bounded once trimmed
    with pytest.raises(RuleViolation, match=f"at most {COMMENT_MAX}") as refused:
        _survey().answer(3, "x" * (COMMENT_MAX + 1), NOW)
    assert refused.value.extensions["errors"][0]["field"] == "comment"


def test_a_low_score_opens_a_complaint_by_policy() -> None:
    survey = _survey()
    assert not survey.opens_complaint(POLICY)  # not answered
    survey.answer(2, "", NOW)
    assert survey.opens_complaint(POLICY)
    assert survey.complaint_title() == "Low satisfaction score 2/5 on incident INC0000001"
    high = _survey()
    high.answer(3, "", NOW)
    assert not high.opens_complaint(POLICY)
    never = SurveyPolicy(sampling_rate=1, throttle=timedelta(0), lifetime=timedelta(days=1), low_score=0)
    lowest = _survey()
    lowest.answer(1, "", NOW)
    assert not lowest.opens_complaint(never)


def test_the_link_secret_is_a_development_one_outside_prod_and_none_in_prod_unless_set() -> None:
    from services.incident.settings import DEV_SURVEY_SECRET, IncidentSettings

    assert IncidentSettings(environment="test").survey_secret == DEV_SURVEY_SECRET.encode()
    real = "a-real-secret-of-enough-length-123456"
    assert IncidentSettings(environment="prod", jwt_secret=real).survey_secret is None
    chosen = IncidentSettings(environment="prod", jwt_secret=real, survey_link_secret="s" * 16)
    assert chosen.survey_secret == b"s" * 16
