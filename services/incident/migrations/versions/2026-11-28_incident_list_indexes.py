"""Indexes for the incident list at a million incidents: one per filter with the list's order
(opened_at DESC, id) after it, in place of the single-column ones; trigram indexes for text
search on PostgreSQL (extension pg_trgm, trusted: the database owner may create it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SINGLE = ("status", "priority", "ci_id", "assignment_group", "assignee", "category", "service_id")
_ORDERED = (
    ("ix_incident_status_priority_opened_at", ("status", "priority")),
    ("ix_incident_status_opened_at", ("status",)),
    ("ix_incident_assignment_group_opened_at", ("assignment_group",)),
    ("ix_incident_assignee_opened_at", ("assignee",)),
    ("ix_incident_ci_id_opened_at", ("ci_id",)),
    ("ix_incident_service_id_opened_at", ("service_id",)),
    ("ix_incident_category_opened_at", ("category",)),
    ("ix_incident_opened_at", ()),
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, columns in _ORDERED:
        op.create_index(name, "incident", [*columns, sa.text("opened_at DESC"), "id"])
    for column in _SINGLE:
        op.drop_index(f"ix_incident_{column}", table_name="incident")
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in ("title", "description"):
        op.create_index(
            f"ix_incident_{column}_trgm",
            "incident",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    for column in ("title", "description"):
        op.drop_index(f"ix_incident_{column}_trgm", table_name="incident")
    for column in _SINGLE:
        op.create_index(f"ix_incident_{column}", "incident", [column])
    for name, _ in _ORDERED:
        op.drop_index(name, table_name="incident")
