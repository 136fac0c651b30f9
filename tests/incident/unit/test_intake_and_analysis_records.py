"""What the small rules of the incident service record and refuse: an alert's incident and its
notes, clusters and recurrence titles, known errors copied from their problem, the priority
matrix and CI checks, catalogue items, and the notes on an incident's timeline (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.incident.domain.alerts import (
    AlertDefaults,
    DuringChangePolicy,
    IncidentFromAlert,
    NamedCI,
    apply_change_window,
    ci_named,
    ci_reference,
    incident_from_alert,
    on_known_ci,
)
from services.incident.domain.analysis import (
    Cluster,
    IncidentFact,
    RecurrencePolicy,
    clusters_of,
    probable_cause_window,
    recurrence_title,
)
from services.incident.domain.catalogue import CatalogueItem
from services.incident.domain.incident_lifecycle import Channel, IncidentStatus, NoteVisibility, PostIncidentReview
from services.incident.domain.incidents import Incident
from services.incident.domain.known_errors import (
    KnownError,
    KnownErrorStatus,
    known_error_matches,
    require_match_scope,
)
from services.incident.domain.priority import (
    AffectedCI,
    Impact,
    Urgency,
    check_ci,
    impact_for_criticality,
    priority_for,
    priority_matrix,
)
from services.incident.domain.problems import Problem, ProblemOrigin
from services.incident.domain.timeline import Note, NoteKind, major_update, write_note
from shared.errors import Conflict, InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
CI, SERVICE = uuid.UUID(int=11), uuid.UUID(int=12)


def fields_of(refused: pytest.ExceptionInfo[RuleViolation]) -> list[str]:
    assert isinstance(refused.value.detail, str) and refused.value.detail
    return [e["field"] for e in refused.value.extensions["errors"]]


# ---------------------------------------------------------------- alerts


def from_alert(labels: dict[str, str], annotations: dict[str, str] | None = None, **kw: Any) -> IncidentFromAlert:
    values: dict[str, Any] = {
        "starts_at": NOW,
        "generator_url": "",
        "fingerprint": "fp1",
        "defaults": AlertDefaults(),
    }
    values.update(kw)
    return incident_from_alert(labels, annotations or {}, **values)


DB = NamedCI(CI, "CI0000011", "Checkout DB", serial="SN-1", hostname="db01", fqdn="db01.shop.example", cloud_id="i-1")


@pytest.mark.parametrize("label", ["CI0000011", "ci0000011", "i-1", "SN-1", "DB01.shop.example", "DB01", "checkout db"])
def test_a_ci_label_names_a_ci_by_number_identifier_host_name_or_name(label: str) -> None:
    made = from_alert({"alertname": "Down", "ci_id": label}, known=[DB])
    assert (made.ci_id, made.notes) == (CI, ())


def test_a_ci_label_takes_the_most_specific_name_and_prefers_a_ci_in_service() -> None:
    named_like_a_host = NamedCI(uuid.uuid4(), "CI0000012", "db01")
    assert ci_named("db01", [named_like_a_host, DB]) == (CI, None)  # a host name before a name
    retired = NamedCI(uuid.uuid4(), "CI0000013", "Checkout DB", retired=True)
    assert ci_named("Checkout DB", [retired, DB]) == (CI, None)
    assert ci_named("Checkout DB", [retired]) == (retired.id, None)  # then on_known_ci says it is retired
    assert ci_named("SN-1", [NamedCI(CI, "CI0000011", "x", serial="sn-1")]) == (None, ci_named("SN-1", [])[1])


def test_a_ci_label_naming_several_cis_or_none_records_no_ci_and_says_why() -> None:
    twin = NamedCI(uuid.uuid4(), "CI0000014", "Checkout DB")
    made = from_alert({"alertname": "Down", "ci_id": "Checkout DB"}, known=[DB, twin])
    assert made.ci_id is None
    assert made.notes == ("label ci_id='Checkout DB' names several CIs (CI0000011, CI0000014); no CI recorded",)
    unknown = from_alert({"alertname": "Down", "ci_id": "web07"}, known=[DB])
    assert unknown.ci_id is None and unknown.notes[0].startswith("label ci_id='web07' is not a CI id (a UUID)")


def test_only_a_ci_label_that_is_not_a_uuid_is_looked_up_by_name() -> None:
    defaults = AlertDefaults(ci_label="ci")
    assert ci_reference({"ci": " db01 "}, defaults) == "db01"
    assert ci_reference({"ci": str(CI)}, defaults) is None
    assert ci_reference({"ci": " "}, defaults) is None
    assert ci_reference({"ci_id": "db01"}, defaults) is None


def test_the_description_of_an_alerts_incident_carries_its_name_fingerprint_start_source_and_labels() -> None:
    made = from_alert(
        {"alertname": "DiskFull", "severity": "warning", "host": "db01"},
        {"description": "  /var is full  "},
        generator_url="http://prom/graph",
    )
    lines = made.description.split("\n")
    assert lines == [
        "/var is full",
        "Alert DiskFull (fingerprint fp1) firing since 2026-11-30T09:00:00+00:00.",
        "Source: http://prom/graph",
        "Labels: alertname=DiskFull, host=db01, severity=warning",
    ]
    assert made.urgency is Urgency.MEDIUM  # severity warning


def test_an_alert_without_name_description_or_source_is_titled_alert_and_described_by_its_facts() -> None:
    made = from_alert({"severity": "page"})
    assert made.title == "alert"
    assert made.description.split("\n") == [
        "Alert alert (fingerprint fp1) firing since 2026-11-30T09:00:00+00:00.",
        "Labels: severity=page",
    ]
    assert (made.impact, made.urgency, made.ci_id) == (Impact.MEDIUM, Urgency.HIGH, None)


def test_a_label_that_is_not_a_level_falls_back_to_the_defaults() -> None:
    made = from_alert({"alertname": "X", "impact": "huge", "severity": "unknown"})
    assert (made.impact, made.urgency) == (Impact.MEDIUM, Urgency.MEDIUM)
    low = from_alert({"alertname": "X", "impact": " LOW ", "urgency": "Moderate"})
    assert (low.impact, low.urgency) == (Impact.LOW, Urgency.MEDIUM)


def test_a_ci_label_with_spaces_is_read_and_another_label_name_can_be_configured() -> None:
    made = from_alert({"alertname": "X", "ci_id": f" {CI} "})
    assert made.ci_id == CI
    named = from_alert({"alertname": "X", "ci": str(CI)}, defaults=AlertDefaults(ci_label="ci"))
    assert named.ci_id == CI
    wrong = from_alert({"alertname": "X", "ci": "db01"}, defaults=AlertDefaults(ci_label="ci"))
    assert wrong.ci_id is None and "ci='db01'" in wrong.notes[0]
    assert wrong.notes[0] in wrong.description


def test_a_long_title_and_description_are_cut_to_what_an_incident_holds() -> None:
    made = from_alert({"alertname": "A" * 150}, {"summary": "b" * 150, "description": "c" * 30_000})
    assert made.title == ("A" * 150 + ": " + "b" * 150)[:200]
    assert len(made.description) == 20_000
    lowered = apply_change_window(made, "CHG1", DuringChangePolicy.LOWER_PRIORITY)
    assert lowered.description == made.description  # the note falls beyond the cut
    unknown = on_known_ci(IncidentFromAlert("t", made.description, CI, Impact.LOW, Urgency.LOW, ()), None)
    assert len(unknown.description) == 20_000


def test_a_change_window_adds_its_note_and_keeps_everything_else() -> None:
    made = IncidentFromAlert("Down", "text", CI, Impact.HIGH, Urgency.HIGH, ("earlier note",))
    lowered = apply_change_window(made, "CHG0000007", DuringChangePolicy.LOWER_PRIORITY)
    assert (lowered.title, lowered.ci_id, lowered.impact, lowered.urgency) == ("Down", CI, Impact.HIGH, Urgency.LOW)
    assert lowered.notes[0] == "earlier note" and len(lowered.notes) == 2
    assert lowered.description == f"text\n{lowered.notes[1]}"
    assert "CHG0000007" in lowered.notes[1]
    annotated = apply_change_window(made, "CHG0000007", DuringChangePolicy.ANNOTATE)
    assert (annotated.title, annotated.ci_id, annotated.impact, annotated.urgency) == (
        "Down",
        CI,
        Impact.HIGH,
        Urgency.HIGH,
    )
    assert annotated.notes == ("earlier note", "Raised during change CHG0000007, being implemented on this CI.")


def test_an_already_low_urgency_is_not_said_to_be_lowered() -> None:
    made = IncidentFromAlert("Down", "text", CI, Impact.HIGH, Urgency.LOW, ())
    lowered = apply_change_window(made, "CHG1", DuringChangePolicy.LOWER_PRIORITY)
    assert lowered.notes == ("Raised during change CHG1, being implemented on this CI.",)


def live_ci(status: str = "live") -> AffectedCI:
    return AffectedCI(CI, status, 2, SERVICE)


def test_an_alert_on_a_live_ci_or_on_none_keeps_its_incident_as_is() -> None:
    on_ci = IncidentFromAlert("Down", "text", CI, Impact.HIGH, Urgency.HIGH, ())
    assert on_known_ci(on_ci, live_ci()) is on_ci
    no_ci = IncidentFromAlert("Down", "text", None, Impact.HIGH, Urgency.HIGH, ())
    assert on_known_ci(no_ci, None) is no_ci
    assert on_known_ci(no_ci, live_ci("retired")) is no_ci


@pytest.mark.parametrize(
    ("ci", "why"),
    [(None, "is not known here"), (live_ci("retired"), "is retired")],
    ids=["unknown", "retired"],
)
def test_an_alert_on_an_unknown_or_retired_ci_opens_without_it_saying_why(ci: AffectedCI | None, why: str) -> None:
    made = IncidentFromAlert("Down", "text", CI, Impact.HIGH, Urgency.LOW, ("earlier",))
    kept = on_known_ci(made, ci)
    assert (kept.title, kept.ci_id, kept.impact, kept.urgency) == ("Down", None, Impact.HIGH, Urgency.LOW)
    assert kept.notes[0] == "earlier" and len(kept.notes) == 2
    assert kept.notes[1].startswith(f"Configuration item {CI} {why}")
    assert kept.description == f"text\n{kept.notes[1]}"


# ---------------------------------------------------------------- analysis


def test_the_service_cluster_keeps_the_service_and_the_category_as_given() -> None:
    fact = IncidentFact(uuid.uuid4(), "INC1", NOW, service_id=SERVICE, category="E-Mail")
    [cluster] = clusters_of(fact)
    assert cluster == Cluster(f"service:{SERVICE}:e-mail", service_id=SERVICE, category="E-Mail")
    assert cluster.describe() == f"category 'E-Mail' on service {SERVICE}"
    [on_ci] = clusters_of(IncidentFact(uuid.uuid4(), "INC2", NOW, ci_id=CI))
    assert (on_ci.ci_id, on_ci.describe()) == (CI, f"CI {CI}")


@pytest.mark.parametrize(
    ("window", "span"), [(timedelta(days=1), "1 day"), (timedelta(days=2), "2 days"), (timedelta(hours=12), "0.5 days")]
)
def test_a_recurrence_title_says_how_many_incidents_where_and_within_how_long(window: timedelta, span: str) -> None:
    title = recurrence_title(Cluster(f"ci:{CI}", ci_id=CI), 3, window)
    assert title == f"Recurring incidents: 3 on CI {CI} within {span}"


def test_a_recurrence_title_names_the_ci_and_the_service_by_name_when_they_are_known() -> None:
    on_ci = Cluster(f"ci:{CI}", ci_id=CI)
    names = {CI: "mail relay", SERVICE: "E-Mail service"}
    assert (
        recurrence_title(on_ci, 3, timedelta(days=7), names) == "Recurring incidents: 3 on CI mail relay within 7 days"
    )
    on_service = Cluster(f"service:{SERVICE}:e-mail", service_id=SERVICE, category="E-Mail")
    assert on_service.describe(names) == "category 'E-Mail' on service E-Mail service"
    assert on_ci.describe({}) == f"CI {CI}"  # not (yet) known here: its id


def test_a_recurrence_title_is_cut_to_200_characters() -> None:
    cluster = Cluster("service:x", service_id=SERVICE, category="c" * 300)
    assert len(recurrence_title(cluster, 3, timedelta(days=7))) == 200


def test_two_incidents_can_make_a_recurrence_and_one_cannot() -> None:
    assert RecurrencePolicy(threshold=2, window=timedelta(days=1)).recurring(2)
    with pytest.raises(RuleViolation) as refused:
        RecurrencePolicy(threshold=1, window=timedelta(days=1))
    assert fields_of(refused) == ["threshold"]


def test_a_change_is_a_probable_cause_for_the_window_after_its_implementation() -> None:
    assert probable_cause_window(NOW, timedelta(hours=4)) == (NOW, NOW + timedelta(hours=4))


# ---------------------------------------------------------------- known errors


def test_a_known_error_copies_what_its_problem_knows_at_publication() -> None:
    problem = Problem.open(
        problem_id=uuid.uuid4(),
        number="PRB1",
        title="Relay drops mail",
        description="mails vanish",
        origin=ProblemOrigin.MANUAL,
        actor="pam",
        now=NOW,
        ci_id=CI,
        service_id=SERVICE,
        category="email",
    )
    problem.update({"root_cause": "queue full", "workaround": "restart"}, "pam", NOW)
    ke_id = uuid.uuid4()
    record = KnownError.of_problem(problem, known_error_id=ke_id, number="KE1", now=NOW + timedelta(hours=1))
    assert (record.id, record.number, record.problem_id) == (ke_id, "KE1", problem.id)
    assert (record.title, record.symptoms, record.root_cause, record.workaround) == (
        "Relay drops mail",
        "mails vanish",
        "queue full",
        "restart",
    )
    assert (record.ci_id, record.service_id, record.category) == (CI, SERVICE, "email")
    assert (record.created_at, record.updated_at, record.usage_count) == (NOW + timedelta(hours=1),) * 2 + (0,)


def test_a_known_error_entered_without_scope_is_refused_naming_the_ci() -> None:
    with pytest.raises(RuleViolation) as refused:
        require_match_scope(None, SERVICE, "")
    assert fields_of(refused) == ["ci_id"]


def test_a_known_error_without_a_category_matches_no_incident_by_service() -> None:
    ke = KnownError(
        uuid.uuid4(), "KE1", uuid.uuid4(), "t", "", "r", "w", KnownErrorStatus.ACTIVE, NOW, NOW, service_id=SERVICE
    )
    assert not known_error_matches(ke, ci_id=None, service_id=SERVICE, category="xxxx")
    assert not known_error_matches(ke, ci_id=None, service_id=SERVICE, category="")


# ---------------------------------------------------------------- priority and CIs


def test_the_configured_matrix_is_read_as_rows_of_impact_and_columns_of_urgency() -> None:
    matrix = priority_matrix([[1, 2, 3], [2, 3, 4], [4, 5, 5]])
    assert matrix[(Impact.HIGH, Urgency.LOW)] == 3
    assert matrix[(Impact.LOW, Urgency.HIGH)] == 4
    assert matrix[(Impact.MEDIUM, Urgency.MEDIUM)] == 3
    assert len(matrix) == 9


def test_a_matrix_without_the_pair_names_no_field_but_says_why() -> None:
    with pytest.raises(RuleViolation) as refused:
        priority_for(Impact.LOW, Urgency.LOW, {})
    assert isinstance(refused.value.detail, str) and refused.value.detail


@pytest.mark.parametrize("criticality", [0, 5, 99])
def test_an_unknown_criticality_gives_a_medium_impact(criticality: int) -> None:
    assert impact_for_criticality(criticality) is Impact.MEDIUM


@pytest.mark.parametrize("ci", [None, AffectedCI(CI, "retired", 1, None)], ids=["unknown", "retired"])
def test_an_unknown_or_retired_ci_is_refused_naming_ci_id(ci: AffectedCI | None) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_ci(CI, ci)
    assert fields_of(refused) == ["ci_id"]
    assert str(CI) in refused.value.detail


def test_a_live_ci_is_returned_as_known() -> None:
    known = AffectedCI(CI, "live", 1, SERVICE)
    assert check_ci(CI, known) is known


# ---------------------------------------------------------------- catalogue


def item(**overrides: Any) -> CatalogueItem:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "name": "Laptop",
        "description": "",
        "service_id": None,
        "needs_approval": False,
        "approver_role": None,
        "fulfilment_group": "workplace",
    }
    values.update(overrides)
    return CatalogueItem(**values)


@pytest.mark.parametrize("priority", [1, 5])
def test_a_catalogue_item_may_default_to_either_end_of_the_priority_range(priority: int) -> None:
    assert item(default_priority=priority).default_priority == priority


@pytest.mark.parametrize("priority", [0, 6])
def test_a_catalogue_item_default_priority_outside_the_range_is_refused(priority: int) -> None:
    with pytest.raises(RuleViolation) as refused:
        item(default_priority=priority)
    assert fields_of(refused) == ["default_priority"]


def test_a_new_catalogue_item_is_active_at_version_one_with_priority_four() -> None:
    made = item()
    assert (made.active, made.version, made.default_priority) == (True, 1, 4)
    with pytest.raises(RuleViolation) as refused:
        item(needs_approval=True, approver_role="  ")
    assert fields_of(refused) == ["approver_role"]


# ---------------------------------------------------------------- the timeline


def incident(major: bool = False) -> Incident:
    opened = Incident.open(
        incident_id=uuid.UUID(int=5),
        number="INC5",
        title="Mail down",
        description="",
        caller="bob",
        channel=Channel.PHONE,
        impact=Impact.HIGH,
        urgency=Urgency.HIGH,
        ci_id=None,
        now=NOW,
    )
    if major:
        opened.declare_major(manager="mia", actor="mia", now=NOW)
    return opened


def test_a_note_records_its_incident_author_time_visibility_and_trimmed_text() -> None:
    note = write_note(incident(), text="  called bob ", visibility=NoteVisibility.INTERNAL, author="ann", now=NOW)
    assert note == Note(uuid.UUID(int=5), NoteKind.WORK_NOTE, NoteVisibility.INTERNAL, "called bob", "ann", NOW)


def test_a_major_update_records_its_incident_author_time_and_may_be_internal() -> None:
    update = major_update(incident(major=True), text=" bridge open ", author="mia", now=NOW)
    assert update == Note(uuid.UUID(int=5), NoteKind.MAJOR_UPDATE, NoteVisibility.CUSTOMER, "bridge open", "mia", NOW)
    internal = major_update(incident(major=True), text="x", author="mia", now=NOW, visibility=NoteVisibility.INTERNAL)
    assert internal.visibility is NoteVisibility.INTERNAL
    with pytest.raises(RuleViolation) as empty:
        major_update(incident(major=True), text=" ", author="mia", now=NOW)
    assert fields_of(empty) == ["text"]


def test_a_major_update_on_an_ordinary_incident_is_a_conflict_naming_its_state() -> None:
    with pytest.raises(Conflict) as refused:
        major_update(incident(), text="x", author="mia", now=NOW)
    assert refused.value.extensions == {"state": "new"}


@pytest.mark.parametrize("final", ["closed", "cancelled"])
def test_no_note_nor_update_on_a_closed_or_cancelled_incident(final: str) -> None:
    record = incident(major=True)
    if final == "closed":
        record.resolve(code="fixed", notes="", actor="ann", now=NOW)
        record.record_review(PostIncidentReview("s", "r", "l", ("a",), "mia", NOW))
        record.close("bob", NOW)
    else:
        record.cancel("duplicate", "ann", NOW)
    for attempt in (
        lambda: write_note(record, text="x", visibility=NoteVisibility.CUSTOMER, author="ann", now=NOW),
        lambda: major_update(record, text="x", author="mia", now=NOW),
    ):
        with pytest.raises(InvalidTransition) as refused:
            attempt()
        assert refused.value.extensions == {"state": final, "allowed_actions": []}
    assert record.status is IncidentStatus(final)
