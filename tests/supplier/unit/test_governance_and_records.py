"""The register of processes a supplier operates, and what every controlled record shares: field
diffs as JSON values and the version an edit is based on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import uuid4

import pytest

from services.supplier.domain.governance import OperatedProcess, Process
from services.supplier.domain.records import Edit, diff, jsonable
from shared.errors import PreconditionFailed, RuleViolation

T0 = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)


def operated() -> OperatedProcess:
    return OperatedProcess(
        id=uuid4(),
        supplier_id=uuid4(),
        process=Process.INCIDENT,
        scope="2nd line network",
        contract_id=None,
        measurement="monthly report",
        kpis=("first-time fix",),
        process_owner="olga",
        created_at=T0,
        updated_at=T0,
    )


def test_updating_an_operated_process_returns_what_changed_and_bumps_the_version() -> None:
    p = operated()
    contract_id = uuid4()
    later = T0 + timedelta(days=1)
    changes = p.update(
        {"process": "problem", "contract_id": contract_id, "kpis": ["mttr", "backlog"], "scope": p.scope}, later
    )
    assert changes == {
        "process": ("incident", "problem"),
        "contract_id": (None, str(contract_id)),
        "kpis": (["first-time fix"], ["mttr", "backlog"]),
    }
    assert (p.process, p.contract_id, p.kpis, p.scope) == (
        "problem",
        contract_id,
        ("mttr", "backlog"),
        "2nd line network",
    )
    assert (p.version, p.updated_at) == (2, later)


def test_an_update_that_changes_nothing_keeps_the_version() -> None:
    p = operated()
    assert p.update({"kpis": ["first-time fix"], "process_owner": "olga"}, T0 + timedelta(days=1)) == {}
    assert (p.version, p.updated_at, p.kpis) == (1, T0, ("first-time fix",))


def test_an_update_of_a_field_that_cannot_change_is_refused_and_changes_nothing() -> None:
    p = operated()
    with pytest.raises(RuleViolation) as refused:
        p.update({"supplier_id": uuid4(), "scope": "everything"}, T0)
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["supplier_id"]
    assert (p.scope, p.version) == ("2nd line network", 1)


def test_the_snapshot_holds_the_register_fields_as_json_values() -> None:
    p = operated()
    assert p.snapshot() == {
        "process": "incident",
        "scope": "2nd line network",
        "contract_id": None,
        "measurement": "monthly report",
        "kpis": ["first-time fix"],
        "process_owner": "olga",
    }


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Pair:
    left: Colour
    right: date


def test_history_values_are_plain_json() -> None:
    some_id = uuid4()
    assert jsonable(Colour.RED) == "red"
    assert jsonable(some_id) == str(some_id)
    assert jsonable(Decimal("12.50")) == "12.50"
    assert jsonable(T0) == "2026-11-03T08:00:00+00:00"
    assert jsonable(date(2026, 1, 2)) == "2026-01-02"
    assert jsonable(Pair(Colour.RED, date(2026, 1, 2))) == {"left": "red", "right": "2026-01-02"}
    assert jsonable((some_id, [Colour.RED])) == [str(some_id), ["red"]]
    assert jsonable({1: some_id, "k": Colour.RED}) == {"1": str(some_id), "k": "red"}
    assert jsonable(Pair) is Pair  # a class is not a record
    assert jsonable(3) == 3


def test_a_diff_keeps_each_changed_field_with_its_old_and_new_value() -> None:
    assert diff({"a": 1, "b": 2, "c": None}, {"a": 1, "b": 3, "c": "x"}) == {"b": (2, 3), "c": (None, "x")}


def test_an_edit_based_on_an_old_version_is_refused_with_the_current_one() -> None:
    with pytest.raises(PreconditionFailed) as refused:
        Edit("olga", expected_version=2).check("SUP0000001", 3)
    assert refused.value.extensions == {"current_version": 3}
    assert "SUP0000001" in refused.value.detail
    Edit("olga", expected_version=3).check("SUP0000001", 3)
    Edit("olga").check("SUP0000001", 3)  # no If-Match where it is optional
