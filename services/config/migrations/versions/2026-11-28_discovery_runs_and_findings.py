"""Discovery runs, unauthorised-change findings, and when each CI was last seen.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("config_item") as batch:
        batch.add_column(sa.Column("last_seen_at", _TS, nullable=True))
        batch.add_column(sa.Column("last_seen_by", sa.String(100), nullable=True))
    op.create_table(
        "discovery_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discovery_run")),
    )
    op.create_index(op.f("ix_discovery_run_source"), "discovery_run", ["source"])
    op.create_table(
        "unauthorised_change",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ci_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("detected_at", _TS, nullable=False),
        sa.Column("differences", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), server_default="open", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unauthorised_change")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_unauthorised_change_fingerprint")),
    )
    op.create_index(op.f("ix_unauthorised_change_ci_id"), "unauthorised_change", ["ci_id"])


def downgrade() -> None:
    op.drop_table("unauthorised_change")
    op.drop_table("discovery_run")
    with op.batch_alter_table("config_item") as batch:
        batch.drop_column("last_seen_by")
        batch.drop_column("last_seen_at")
