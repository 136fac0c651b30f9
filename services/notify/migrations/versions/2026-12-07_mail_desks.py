"""Service desks: the desk a queued message goes from (its name, From and Reply-To, chosen from
the event's service or assignment group when it was queued). NULL is the default desk of the
settings, so the messages queued before this revision still go out as they would have.

Revision ID: 0008_desks
Revises: 0008_accessfollow
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_desks"
down_revision: str | None = "0008_accessfollow"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_message") as batch:
        batch.add_column(sa.Column("desk_name", sa.String(100), nullable=True))
        batch.add_column(sa.Column("mail_from", sa.String(320), nullable=True))
        batch.add_column(sa.Column("mail_reply_to", sa.String(320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mail_message") as batch:
        batch.drop_column("mail_reply_to")
        batch.drop_column("mail_from")
        batch.drop_column("desk_name")
