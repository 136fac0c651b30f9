"""What the config and change services' events set in the fact tables (the rows a report reads)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.reporting.domain import change_events, config_events
from services.reporting.domain.facts import CHANGE_SERVICES, CHANGES, CIS, CMDB_FINDINGS, DEPLOYMENTS
from shared.events.change import (
    ChangeClosed,
    ChangeCreated,
    ChangeFailed,
    ChangeImplemented,
    ChangeScheduled,
    DeploymentRecorded,
)
from shared.events.config import (
    Cause,
    ConfigItemCreated,
    ConfigItemRetired,
    ConfigItemUnauthorisedChangeDetected,
    ConfigItemUpdated,
)

T = datetime(2026, 10, 5, 9, tzinfo=UTC)
CI, SERVICE, SUPPLIER = UUID(int=1), UUID(int=2), UUID(int=3)
CAUSE = Cause(kind="manual", actor="ann")
CHANGE = UUID(int=10)
S1, S2 = UUID(int=21), UUID(int=22)


def test_a_registered_ci_sets_its_row_with_when_it_was_created() -> None:
    data = ConfigItemCreated(
        ci_id=CI,
        number="CI0000001",
        name="db01",
        type="server",
        status="live",
        criticality=2,
        created_at=T,
        service_id=SERVICE,
        supplier_id=SUPPLIER,
    )
    assert config_events.ci(data) == [
        (
            CIS,
            {
                "ci_id": CI,
                "number": "CI0000001",
                "name": "db01",
                "type": "server",
                "status": "live",
                "criticality": 2,
                "service_id": SERVICE,
                "supplier_id": SUPPLIER,
                "created_at": T,
            },
        )
    ]


def test_an_updated_ci_sets_its_state_but_not_when_it_was_created() -> None:
    data = ConfigItemUpdated(
        ci_id=CI,
        number="CI0000001",
        name="db02",
        type="server",
        status="maintenance",
        criticality=1,
        version=2,
        changes={"name": {"old": "db01", "new": "db02"}},
        cause=CAUSE,
        updated_at=T,
    )
    [(table, values)] = config_events.ci(data)
    assert table is CIS
    assert values == {
        "ci_id": CI,
        "number": "CI0000001",
        "name": "db02",
        "type": "server",
        "status": "maintenance",
        "criticality": 1,
        "service_id": None,
        "supplier_id": None,
    }


def test_a_retired_ci_is_retired_from_then() -> None:
    data = ConfigItemRetired(ci_id=CI, number="CI0000001", version=3, cause=CAUSE, retired_at=T)
    assert config_events.ci_retired(data) == [
        (CIS, {"ci_id": CI, "number": "CI0000001", "status": "retired", "retired_at": T})
    ]


def test_an_unauthorised_change_is_a_finding_on_the_ci() -> None:
    finding = uuid4()
    data = ConfigItemUnauthorisedChangeDetected(
        finding_id=finding,
        ci_id=CI,
        number="CI0000001",
        name="db01",
        criticality=2,
        source="scanner",
        run_id=uuid4(),
        differences={"os": {"old": "a", "new": "b"}},
        detected_at=T,
    )
    assert config_events.unauthorised(data) == [
        (
            CMDB_FINDINGS,
            {"finding_id": str(finding), "kind": "unauthorised_change", "ci_id": CI, "detected_at": T},
        )
    ]


def test_a_created_change_sets_its_row() -> None:
    data = ChangeCreated(
        change_id=CHANGE,
        number="CHG0000001",
        title="t",
        type="normal",
        status="draft",
        requester="r",
        created_at=T,
        service_ids=[S1],
    )
    assert change_events.change_created(data) == [
        (CHANGES, {"change_id": CHANGE, "number": "CHG0000001", "type": "normal", "status": "draft", "created_at": T})
    ]


def test_an_implemented_change_is_implemented_then_and_names_each_of_its_services() -> None:
    data = ChangeImplemented(
        change_id=CHANGE,
        number="CHG0000001",
        implemented_at=T + timedelta(days=2),
        implemented_by="ivan",
        type="standard",
        created_at=T,
        service_ids=[S1, S2],
    )
    assert change_events.change_implemented(data) == [
        (
            CHANGES,
            {
                "change_id": CHANGE,
                "number": "CHG0000001",
                "type": "standard",
                "status": "implemented",
                "created_at": T,
                "implemented_at": T + timedelta(days=2),
            },
        ),
        (CHANGE_SERVICES, {"change_id": CHANGE, "service_id": S1}),
        (CHANGE_SERVICES, {"change_id": CHANGE, "service_id": S2}),
    ]


def status_event(cls: type, status: str, **extra: Any) -> Any:
    return cls(
        change_id=CHANGE,
        number="CHG0000001",
        type="normal",
        status=status,
        previous_status="implementing",
        actor="a",
        occurred_at=T + timedelta(days=3),
        created_at=T,
        service_ids=[S1],
        **extra,
    )


def test_a_status_change_sets_the_status_and_names_the_services() -> None:
    data = status_event(ChangeScheduled, "scheduled")
    assert change_events.change_status(data) == [
        (
            CHANGES,
            {"change_id": CHANGE, "number": "CHG0000001", "type": "normal", "status": "scheduled", "created_at": T},
        ),
        (CHANGE_SERVICES, {"change_id": CHANGE, "service_id": S1}),
    ]


@pytest.mark.parametrize(("backed_out", "recorded"), [(True, True), (False, None)])
def test_a_failed_change_failed_then_and_is_backed_out_only_when_it_was(backed_out: bool, recorded: object) -> None:
    data = status_event(ChangeFailed, "failed", notes="n", backed_out=backed_out)
    [(table, values), *_] = change_events.change_status(data)
    assert table is CHANGES
    assert values["failed_at"] == T + timedelta(days=3)
    assert values["backed_out"] is recorded  # None: says nothing, so an earlier backing out stays
    assert "closed_at" not in values


def test_a_closed_change_is_closed_then() -> None:
    [(_, values), *_] = change_events.change_status(status_event(ChangeClosed, "closed"))
    assert values["closed_at"] == T + timedelta(days=3)
    assert "failed_at" not in values and "backed_out" not in values


def deployment(**overrides: Any) -> DeploymentRecorded:
    values: dict[str, Any] = {
        "deployment_id": UUID(int=99),
        "service_id": S1,
        "service": "shop",
        "environment": "production",
        "result": "succeeded",
        "change_id": CHANGE,
        "release_id": UUID(int=77),
        "started_at": T,
        "finished_at": T + timedelta(minutes=20),
        "recorded_at": T + timedelta(minutes=30),
    }
    values.update(overrides)
    return DeploymentRecorded(**values)


def test_a_deployment_sets_its_row() -> None:
    assert change_events.deployment(deployment()) == [
        (
            DEPLOYMENTS,
            {
                "deployment_id": UUID(int=99),
                "service_id": S1,
                "service": "shop",
                "environment": "production",
                "result": "succeeded",
                "change_id": CHANGE,
                "release_id": UUID(int=77),
                "started_at": T,
                "finished_at": T + timedelta(minutes=20),
                "recorded_at": T + timedelta(minutes=30),
            },
        )
    ]


def test_a_finished_deployment_without_a_finish_time_finished_when_it_was_recorded() -> None:
    [(_, values)] = change_events.deployment(deployment(result="failed", finished_at=None))
    assert values["finished_at"] == T + timedelta(minutes=30)


def test_a_deployment_in_progress_has_not_finished() -> None:
    [(_, values)] = change_events.deployment(deployment(result="in_progress", finished_at=None))
    assert values["finished_at"] is None
