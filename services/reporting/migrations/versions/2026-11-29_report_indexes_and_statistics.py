"""An index on (service_id, opened_at) in place of the one on service_id (the incident reports
filtered by a service and a period; SQLite took the period's index and read every incident).

Partial indexes for the reports that read a few incidents out of many: outages (priority 1 or
major; availability and DORA time to restore), major incidents (their numbers in the incidents
report), incidents linked to a problem as a recurrence (problems report) and incidents linked to
a problem by CI (the hot spots' distinct problems). On PostgreSQL the outage and recurrence
indexes cover the columns those reports read (index-only scans).

PostgreSQL also gets statistics on the UTC day, week and month of an incident's opened_at (the
period labels of the service-levels and workload reports): without them the planner takes every
incident for a period of its own and aggregates in one process; with them, in parallel.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTAGE = {"postgresql": "priority = 1 OR major IS TRUE", "sqlite": "priority = 1 OR major IS 1"}
RECURRENCE = "problem_link_reason = 'recurrence'"
PERIODS = ("day", "week", "month")


def upgrade() -> None:
    # A service's incidents of a period, in place of the index on the service alone.
    op.create_index("ix_incident_facts_service_id_opened_at", "incident_facts", ["service_id", "opened_at"])
    op.drop_index("ix_incident_facts_service_id", table_name="incident_facts")
    op.create_index(
        "ix_incident_facts_outage",
        "incident_facts",
        ["opened_at"],
        postgresql_include=["service_id", "resolved_at"],
        postgresql_where=sa.text(OUTAGE["postgresql"]),
        sqlite_where=sa.text(OUTAGE["sqlite"]),
    )
    op.create_index(
        "ix_incident_facts_major",
        "incident_facts",
        ["opened_at"],
        postgresql_where=sa.text("major IS TRUE"),
        sqlite_where=sa.text("major IS 1"),
    )
    op.create_index(
        "ix_incident_facts_problem",
        "incident_facts",
        ["ci_id", "problem_id"],
        postgresql_where=sa.text("problem_id IS NOT NULL"),
        sqlite_where=sa.text("problem_id IS NOT NULL"),
    )
    op.create_index(
        "ix_incident_facts_recurrence",
        "incident_facts",
        ["opened_at"],
        postgresql_include=["service_id", "assignment_group", "priority", "supplier_id"],
        postgresql_where=sa.text(RECURRENCE),
        sqlite_where=sa.text(RECURRENCE),
    )
    if op.get_bind().dialect.name == "postgresql":
        for period in PERIODS:
            op.execute(
                f"CREATE STATISTICS incident_facts_opened_{period} "
                f"ON (date_trunc('{period}', timezone('UTC', opened_at))) FROM incident_facts"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for period in PERIODS:
            op.execute(f"DROP STATISTICS IF EXISTS incident_facts_opened_{period}")
    op.drop_index("ix_incident_facts_recurrence", table_name="incident_facts")
    op.drop_index("ix_incident_facts_problem", table_name="incident_facts")
    op.drop_index("ix_incident_facts_major", table_name="incident_facts")
    op.drop_index("ix_incident_facts_outage", table_name="incident_facts")
    op.create_index("ix_incident_facts_service_id", "incident_facts", ["service_id"])
    op.drop_index("ix_incident_facts_service_id_opened_at", table_name="incident_facts")
