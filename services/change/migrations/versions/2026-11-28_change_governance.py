"""Change governance: the local CI read model, clause 5 flags and design and transition records,
post-implementation reviews, maintenance windows, and the indexes conflict detection reads by.

A change's services (`change_service`), its plans and the incidents linked to it
(`change_incident_link`) come from 0005 (releases and deployments), shared with the release side.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.ci_read_model import create_ci_read_model_tables, drop_ci_read_model_tables

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_ci_read_model_tables()
    with op.batch_alter_table("change") as batch:
        batch.add_column(sa.Column("major", sa.Boolean(), server_default="false", nullable=False))
        batch.add_column(sa.Column("service_transition", sa.String(20), nullable=True))
        batch.add_column(sa.Column("backed_out", sa.Boolean(), nullable=True))
    op.create_table(
        "change_design",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("acceptance_criteria", sa.JSON(), nullable=False),
        sa.Column("service_level_targets", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("go_live_accepted", sa.Boolean(), nullable=True),
        sa.Column("go_live_by", sa.String(200), nullable=True),
        sa.Column("go_live_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("go_live_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["change_id"], ["change.id"], name=op.f("fk_change_design_change_id_change"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_change_design")),
    )
    op.create_table(
        "change_review",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("lessons", sa.Text(), nullable=False),
        sa.Column("objectives_met", sa.Boolean(), nullable=True),
        sa.Column("incident_ids", sa.JSON(), nullable=False),
        sa.Column("reviewed_by", sa.String(200), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["change.id"], name=op.f("fk_change_review_change_id_change"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_change_review")),
    )
    op.create_table(
        "maintenance_window",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("start_time", sa.String(8), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_window")),
    )
    op.create_index(op.f("ix_maintenance_window_service_id"), "maintenance_window", ["service_id"])
    # Which changes touch these CIs, answered from the index alone (conflict detection).
    op.drop_index(op.f("ix_change_affected_ci_ci_id"), table_name="change_affected_ci")
    op.create_index("ix_change_affected_ci_ci_id_change_id", "change_affected_ci", ["ci_id", "change_id"])
    if op.get_bind().dialect.name == "postgresql":
        # The windows of the schedule as ranges, for conflict detection and the schedule's reads
        # (store._in_window): a range overlap on a GiST index instead of two comparisons that
        # each match half of a long schedule. PostgreSQL only; SQLite scans.
        op.execute(
            "CREATE INDEX ix_change_window ON change USING gist (tstzrange(planned_start, planned_end))"
            " WHERE planned_start IS NOT NULL AND planned_end IS NOT NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_change_window")
    op.drop_index("ix_change_affected_ci_ci_id_change_id", table_name="change_affected_ci")
    op.create_index(op.f("ix_change_affected_ci_ci_id"), "change_affected_ci", ["ci_id"])
    op.drop_table("maintenance_window")
    op.drop_table("change_review")
    op.drop_table("change_design")
    with op.batch_alter_table("change") as batch:
        for column in ("backed_out", "service_transition", "major"):
            batch.drop_column(column)
    drop_ci_read_model_tables()
