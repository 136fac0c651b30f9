"""Create the notify tables: the platform tables (outbox, inbox, number counters, idempotency
keys), the events it consumed, webhook subscriptions, deliveries and their attempts.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntKey
from shared.idempotency import create_idempotency_table, drop_idempotency_table
from shared.migrations import create_platform_tables, drop_platform_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCES: tuple[str, ...] = ()
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_platform_tables(SEQUENCES)
    create_idempotency_table()
    op.create_table(
        "received_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("time", TIME, nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_event")),
    )
    op.create_index(op.f("ix_received_event_type"), "received_event", ["type"])
    op.create_index(op.f("ix_received_event_time"), "received_event", ["time"])
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("event_pattern", sa.String(255), nullable=False),
        sa.Column("subject_filter", sa.String(200), nullable=True),
        sa.Column("data_filter", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("previous_secret", sa.String(100), nullable=True),
        sa.Column("previous_secret_until", TIME, nullable=True),
        sa.Column("disabled_at", TIME, nullable=True),
        sa.Column("disabled_reason", sa.String(500), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    op.create_index(op.f("ix_webhook_subscription_status"), "webhook_subscription", ["status"])
    op.create_table(
        "webhook_delivery",
        sa.Column("seq", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("event_time", TIME, nullable=False),
        sa.Column("ordering_key", sa.String(220), nullable=False),
        sa.Column("replay", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIME, nullable=True),
        sa.Column("first_attempt_at", TIME, nullable=True),
        sa.Column("last_attempt_at", TIME, nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("delivered_at", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_webhook_delivery_subscription_id_webhook_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint("id", name=op.f("uq_webhook_delivery_id")),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_delivery_order", "webhook_delivery", ["subscription_id", "ordering_key", "status"])
    op.create_index("ix_webhook_delivery_event", "webhook_delivery", ["subscription_id", "event_id"])
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("attempted_at", TIME, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index(op.f("ix_webhook_attempt_delivery_id"), "webhook_attempt", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("webhook_attempt")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
    op.drop_table("received_event")
    drop_idempotency_table()
    drop_platform_tables(SEQUENCES)
