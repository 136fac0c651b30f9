"""SLA calendars and policies, the clocks of each ticket, and the notices the watcher raised.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntKey

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sla_calendar",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("working_hours", sa.JSON(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_calendar")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_calendar_name")),
    )
    op.create_table(
        "sla_policy",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("ticket_kind", sa.String(10), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("response_target_s", sa.Integer(), nullable=False),
        sa.Column("resolution_target_s", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Uuid(), nullable=False),
        sa.Column("warning_share", sa.Float(), nullable=True),
        sa.Column("on_warning", sa.JSON(), nullable=True),
        sa.Column("on_breach", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"], ["sla_calendar.id"], name=op.f("fk_sla_policy_calendar_id_sla_calendar")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy")),
    )
    op.create_index(op.f("ix_sla_policy_calendar_id"), "sla_policy", ["calendar_id"])
    op.create_index("ix_sla_policy_kind_priority", "sla_policy", ["ticket_kind", "priority"])
    op.create_table(
        "sla_clock",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("ticket_kind", sa.String(10), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(12), nullable=False),
        sa.Column("ticket_number", sa.String(20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("assignment_group", sa.String(100), nullable=True),
        sa.Column("ci_id", sa.Uuid(), nullable=True),
        sa.Column("supplier_id", sa.Uuid(), nullable=True),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("target_s", sa.Integer(), nullable=False),
        sa.Column("warn_s", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("since", _TS, nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("elapsed_s", sa.Integer(), nullable=False),
        sa.Column("warn_at", _TS, nullable=True),
        sa.Column("due_at", _TS, nullable=True),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.Column("stopped_at", _TS, nullable=True),
        sa.Column("pauses", sa.Integer(), nullable=False),
        sa.Column("alert_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clock")),
        sa.UniqueConstraint("ticket_id", "target", name="uq_sla_clock_ticket_target"),
    )
    op.create_index(op.f("ix_sla_clock_policy_id"), "sla_clock", ["policy_id"])
    op.create_index(op.f("ix_sla_clock_alert_at"), "sla_clock", ["alert_at"])
    op.create_table(
        "sla_notice",
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("ticket_kind", sa.String(10), nullable=False),
        sa.Column("raised_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "target", "kind", name="pk_sla_notice"),
    )


def downgrade() -> None:
    op.drop_table("sla_notice")
    op.drop_table("sla_clock")
    op.drop_table("sla_policy")
    op.drop_table("sla_calendar")
