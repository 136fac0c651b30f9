"""Create the configuration item table and the platform tables (outbox, inbox, number counters).

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_platform_tables, drop_platform_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCES = ("ci",)


def upgrade() -> None:
    create_platform_tables(SEQUENCES)
    op.create_table(
        "config_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("criticality", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("serial", sa.String(100), nullable=True),
        sa.Column("hostname", sa.String(253), nullable=True),
        sa.Column("fqdn", sa.String(253), nullable=True),
        sa.Column("cloud_id", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_item")),
        sa.UniqueConstraint("number", name=op.f("uq_config_item_number")),
    )
    op.create_index(op.f("ix_config_item_status"), "config_item", ["status"])
    op.create_index(op.f("ix_config_item_type"), "config_item", ["type"])
    # A hostname is held by one CI at a time; retired CIs release theirs.
    op.create_index(
        op.f("uq_config_item_hostname"),
        "config_item",
        ["hostname"],
        unique=True,
        postgresql_where=sa.text("status != 'retired'"),
        sqlite_where=sa.text("status != 'retired'"),
    )


def downgrade() -> None:
    op.drop_table("config_item")
    drop_platform_tables(SEQUENCES)
