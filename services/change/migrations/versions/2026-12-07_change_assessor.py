"""Who assessed a change, and who set its risk by hand (that person is not its only approver).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("change") as batch:
        batch.add_column(sa.Column("assessed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("risk_set_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("change") as batch:
        batch.drop_column("risk_set_by")
        batch.drop_column("assessed_by")
