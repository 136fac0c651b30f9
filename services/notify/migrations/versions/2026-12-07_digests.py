"""Digests: a person's digest setting (`off`, `hourly`, `daily`) in the directory, and the mark on
a queued message that it waits for its recipient's digest.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("directory_person") as batch:
        batch.add_column(sa.Column("digest", sa.String(10), nullable=False, server_default="off"))
    with op.batch_alter_table("mail_message") as batch:
        batch.add_column(sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("mail_message") as batch:
        batch.drop_column("digest")
    with op.batch_alter_table("directory_person") as batch:
        batch.drop_column("digest")
