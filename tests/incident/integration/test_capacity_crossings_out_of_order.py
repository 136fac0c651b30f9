"""Config's capacity breach and its clearing may be taken by two incident workers at once, the
clearing first. A clearing that names its breach waits for it (the consumer's retry), so the
breach's incident is opened and then resolved, never left open for good."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.incident.store.tables import incident, monitoring_alert, outbox
from services.incident.usecases.alerts import CAPACITY_CATEGORY, BreachNotTakenInYet, on_capacity_crossing
from shared.db import create_engine
from shared.events.config import CapacityThresholdBreached, CapacityThresholdCleared
from shared.uow import UnitOfWork
from tests.incident.cis import seed_ci

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _crossings(ci_id: uuid.UUID, *, names_breach: bool) -> tuple[CapacityThresholdBreached, CapacityThresholdCleared]:
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    common: dict[str, Any] = {
        "ci_id": ci_id,
        "metric": f"disk_used_ratio_{uuid.uuid4().hex[:6]}",
        "unit": "ratio",
        "level": "critical",
        "warning": 0.8,
        "critical": 0.95,
    }
    breach = CapacityThresholdBreached(**common, current_level="critical", value=0.97, sampled_at=at)
    clearing = CapacityThresholdCleared(
        **common,
        current_level="ok",
        value=0.5,
        sampled_at=at + timedelta(seconds=3),
        breached_at=at if names_breach else None,
    )
    return breach, clearing


async def _incidents_of(database_url: str, ci_id: uuid.UUID) -> list[tuple[str, str]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(incident.c.status, monitoring_alert.c.status)
                .join(monitoring_alert, monitoring_alert.c.incident_id == incident.c.id)
                .where(incident.c.ci_id == ci_id, incident.c.category == CAPACITY_CATEGORY)
            )
            return [(r[0], r[1]) for r in rows]
    finally:
        await engine.dispose()


@pytest.fixture
async def apply(service_database: Callable[[str], Any]) -> Any:
    database_url = str(await service_database("incident"))
    engine = create_engine(database_url)

    async def one(data: CapacityThresholdBreached | CapacityThresholdCleared) -> None:
        async with UnitOfWork(engine, outbox, source="/itsm/incident") as uow:
            await on_capacity_crossing(data, uow)
            await uow.commit()

    one.database_url = database_url  # type: ignore[attr-defined]
    yield one
    await engine.dispose()


async def test_a_clearing_taken_before_its_breach_waits_for_it_and_then_resolves_its_incident(apply: Any) -> None:
    ci_id = await seed_ci(apply.database_url, criticality=2)
    breach, clearing = _crossings(ci_id, names_breach=True)

    with pytest.raises(BreachNotTakenInYet):
        await apply(clearing)  # taken first: nothing is written, the consumer retries it
    assert await _incidents_of(apply.database_url, ci_id) == []

    await apply(breach)
    assert await _incidents_of(apply.database_url, ci_id) == [("new", "firing")]
    await apply(clearing)  # the retry
    assert await _incidents_of(apply.database_url, ci_id) == [("resolved", "resolved")]


async def test_a_clearing_that_names_no_breach_is_taken_as_before(apply: Any) -> None:
    """From a producer older than `breached_at`: nothing to wait for, so a clearing first finds no
    alert and is ignored, as an Alertmanager resolution of an alert never seen firing is."""
    ci_id = await seed_ci(apply.database_url, criticality=2)
    breach, clearing = _crossings(ci_id, names_breach=False)

    await apply(clearing)
    await apply(breach)
    assert await _incidents_of(apply.database_url, ci_id) == [("new", "firing")]


async def test_each_episode_of_a_ci_gets_its_incident_and_its_clearing(apply: Any) -> None:
    """A second breach after the first was cleared opens an incident of its own, and its clearing
    (naming that second breach) resolves it rather than waiting on the first episode's rows."""
    ci_id = await seed_ci(apply.database_url, criticality=2)
    breach, clearing = _crossings(ci_id, names_breach=True)
    await apply(breach)
    await apply(clearing)
    later = breach.model_copy(update={"sampled_at": breach.sampled_at + timedelta(minutes=5)})
    later_clearing = clearing.model_copy(
        update={"sampled_at": later.sampled_at + timedelta(seconds=3), "breached_at": later.sampled_at}
    )
    with pytest.raises(BreachNotTakenInYet):
        await apply(later_clearing)
    await apply(later)
    await apply(later_clearing)
    assert await _incidents_of(apply.database_url, ci_id) == [("resolved", "resolved")] * 2
