"""The continuity report (ISO/IEC 20000-1 6.3.3) against the data set of tests/reporting/dataset.py,
projected in any order, with hand-computed rows: Payroll's availability plan is overdue, Mail's
continuity plan has a re-test due after CHG0000002, its test results and its one invocation."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.usecases import projections
from services.reporting.usecases import reports as usecases
from shared.db import create_engine
from tests.infra import Servers, create_service_database
from tests.reporting.dataset import MAIL, NOW, PAYROLL, PLAN_MAIL, PLAN_PAYROLL, T0, D, all_events

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def engine(servers: Servers) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await create_service_database(servers, "reporting", label="continuity"))
    events = all_events()
    random.Random(14).shuffle(events)
    while events:
        batch, events = events[:7], events[7:]
        async with engine.begin() as conn:
            await projections.project(conn, batch)
    yield engine
    await engine.dispose()


async def produce(engine: AsyncEngine, **filters: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    async with engine.connect() as conn:
        report = await usecases.produce(conn, "continuity", ReportFilters(**filters), now=NOW)
    for row in report.rows:
        assert list(row) == list(report.definition.columns)
    return report.rows, report.totals


PAYROLL_ROW = {
    "plan_id": str(PLAN_PAYROLL),
    "title": "Payroll availability",
    "kind": "availability",
    "version": 1,
    "service_names": "Payroll",
    "test_due_at": T0 - 35 * D,
    "test_status": "overdue",
    "retest_change_number": None,
    "last_tested_at": None,
    "tests": 0,
    "deficiencies": 0,
    "requirements_missed": 0,
    "invocations": 0,
}
MAIL_ROW = {
    "plan_id": str(PLAN_MAIL),
    "title": "Mail continuity",
    "kind": "continuity",
    "version": 2,
    "service_names": "Mail",
    "test_due_at": T0 + 31 * D,  # the re-test after the major change, sooner than the schedule (T0 + 345 d)
    "test_status": "due",
    "retest_change_number": "CHG0000002",
    "last_tested_at": T0 - 20 * D,
    "tests": 1,
    "deficiencies": 2,
    "requirements_missed": 1,
    "invocations": 1,
}


async def test_plans_overdue_first_then_due_with_the_retest_and_the_invocation(engine: AsyncEngine) -> None:
    rows, totals = await produce(engine)
    assert rows == [PAYROLL_ROW, MAIL_ROW]
    assert totals == {"plans": 2, "tests_due": 1, "tests_overdue": 1, "retests_due": 1, "invocations": 1}
    assert (await produce(engine, service_id=MAIL))[0] == [MAIL_ROW]
    assert (await produce(engine, service_id=PAYROLL))[0] == [PAYROLL_ROW]
