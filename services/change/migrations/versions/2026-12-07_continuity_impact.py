"""Changes near continuity-tier services (6.3.2): the services config's plans cover, and each
change's stated continuity and availability impact.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "continuity_plan_cover",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_continuity_plan_cover")),
    )
    op.create_table(
        "change_continuity_impact",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("continuity_impact", sa.String(10), nullable=False),
        sa.Column("availability_impact", sa.String(10), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("stated_by", sa.String(200), nullable=False),
        sa.Column("stated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_change_continuity_impact")),
    )


def downgrade() -> None:
    op.drop_table("change_continuity_impact")
    op.drop_table("continuity_plan_cover")
