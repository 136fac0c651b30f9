"""Notification rules and e-mail messages (with their delivery log), and the default rules a
service desk expects: incident resolved -> the caller, incident assigned -> the assignee.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntKey

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
SEEDED_AT = datetime(2026, 12, 7, tzinfo=UTC)
DEFAULT_RULES = [
    {
        "id": UUID("6f1d2b0e-0000-4000-8000-000000000001"),
        "name": "incident resolved: tell the caller",
        "event_pattern": "incident.resolved.v1",
        "data_filter": {},
        "template": "incident_resolved",
        "recipient_fields": ["data.caller"],
    },
    {
        "id": UUID("6f1d2b0e-0000-4000-8000-000000000002"),
        "name": "incident assigned: tell the assignee",
        "event_pattern": "incident.assigned.v1",
        "data_filter": {},
        "template": "incident_assigned",
        "recipient_fields": ["data.assignee"],
    },
]


def upgrade() -> None:
    rules = op.create_table(
        "notification_rule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("event_pattern", sa.String(255), nullable=False),
        sa.Column("data_filter", sa.JSON(), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("recipient_fields", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_rule")),
        sa.UniqueConstraint("name", name=op.f("uq_notification_rule_name")),
    )
    op.create_table(
        "mail_message",
        sa.Column("seq", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIME, nullable=True),
        sa.Column("first_attempt_at", TIME, nullable=True),
        sa.Column("last_attempt_at", TIME, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("sent_at", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["notification_rule.id"],
            name=op.f("fk_mail_message_rule_id_notification_rule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_mail_message")),
        sa.UniqueConstraint("id", name=op.f("uq_mail_message_id")),
    )
    op.create_index("ix_mail_message_due", "mail_message", ["status", "next_attempt_at"])
    op.create_index("uq_mail_message_once", "mail_message", ["event_id", "rule_id", "recipient"], unique=True)
    op.bulk_insert(
        rules, [{**r, "enabled": True, "created_by": "system", "created_at": SEEDED_AT} for r in DEFAULT_RULES]
    )


def downgrade() -> None:
    op.drop_index("uq_mail_message_once", table_name="mail_message")
    op.drop_index("ix_mail_message_due", table_name="mail_message")
    op.drop_table("mail_message")
    op.drop_table("notification_rule")
