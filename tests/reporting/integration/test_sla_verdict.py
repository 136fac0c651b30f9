"""Met or missed: a ticket's reported SLA result wins over a breach notice raised live, in either
order, on PostgreSQL and SQLite. The case that needs it: history imported with its original times
while the SLA watcher runs (the watcher notices a backdated clock as overdue before the import's
next, backdated, action shows the target was met).
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store import service_levels as store
from services.reporting.usecases import projections as usecases
from tests.reporting.dataset import MAIL, T0, Incident, M

pytestmark = pytest.mark.asyncio(loop_scope="session")


def history() -> list[Incident]:
    # Noticed as overdue by the watcher, then resolved (backdated) with the response on time.
    imported = Incident(1, service=MAIL, priority=2, opened=T0).breach("response", T0 + 31 * M)
    imported.assign("ops", T0 + 10 * M).resolve(T0 + 60 * M, response_met=True, resolution_met=True)
    # Noticed, still open: missed so far.
    overdue = Incident(2, service=MAIL, priority=2, opened=T0).breach("response", T0 + 31 * M)
    # No notice, the result says missed.
    late = Incident(3, service=MAIL, priority=2, opened=T0).assign("ops", T0 + 45 * M)
    late.resolve(T0 + 90 * M, response_met=False, resolution_met=True)
    # Neither: not measured yet.
    return [imported, overdue, late, Incident(4, service=MAIL, priority=2, opened=T0)]


@pytest.mark.parametrize("order", ["as_recorded", "reversed"])
async def test_a_reported_result_wins_over_a_breach_notice(engine: AsyncEngine, order: str) -> None:
    events = [e for incident in history() for e in incident.events]
    if order == "reversed":
        events.reverse()
    for event in events:  # one at a time: each event its own upsert, the notice before or after
        async with engine.begin() as conn:
            await usecases.project(conn, [event])
    async with engine.connect() as conn:
        (group,) = await store.service_level_groups(conn, ReportFilters())
    assert group["incidents"] == 4
    assert group["response_measured"] == 3  # imported, overdue, late
    assert group["response_met"] == 1  # imported only: its result, not the watcher's notice
    assert group["resolution_measured"] == 2
    assert group["resolution_met"] == 2
