"""E-mail intake: the messages fetched from the desk's mailbox (by IMAP UID, with their outcome),
their attachments (stored or refused), the recipients the desk's mail bounced from, and the record
each sent message was about (to match replies).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntKey

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("mail_message") as batch:
        batch.add_column(sa.Column("record_id", sa.String(200), nullable=True))
    op.create_table(
        "mail_intake",
        sa.Column("seq", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("folder", sa.String(200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=True),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("kind", sa.String(20), nullable=True),
        sa.Column("ticket_number", sa.String(20), nullable=True),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_mail_intake")),
        sa.UniqueConstraint("id", name=op.f("uq_mail_intake_id")),
    )
    op.create_index(op.f("ix_mail_intake_sender"), "mail_intake", ["sender"])
    op.create_index(op.f("ix_mail_intake_outcome"), "mail_intake", ["outcome"])
    op.create_index(op.f("ix_mail_intake_received_at"), "mail_intake", ["received_at"])
    op.create_index("uq_mail_intake_uid", "mail_intake", ["folder", "uidvalidity", "uid"], unique=True)
    op.create_table(
        "mail_attachment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("intake_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["intake_id"], ["mail_intake.id"], name=op.f("fk_mail_attachment_intake_id_mail_intake"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_attachment")),
    )
    op.create_index(op.f("ix_mail_attachment_intake_id"), "mail_attachment", ["intake_id"])
    op.create_table(
        "bounced_recipient",
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("diagnostic", sa.String(500), nullable=False),
        sa.Column("first_bounced_at", TIME, nullable=False),
        sa.Column("last_bounced_at", TIME, nullable=False),
        sa.Column("intake_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_bounced_recipient")),
    )


def downgrade() -> None:
    op.drop_table("bounced_recipient")
    op.drop_index(op.f("ix_mail_attachment_intake_id"), table_name="mail_attachment")
    op.drop_table("mail_attachment")
    op.drop_index("uq_mail_intake_uid", table_name="mail_intake")
    op.drop_index(op.f("ix_mail_intake_received_at"), table_name="mail_intake")
    op.drop_index(op.f("ix_mail_intake_outcome"), table_name="mail_intake")
    op.drop_index(op.f("ix_mail_intake_sender"), table_name="mail_intake")
    op.drop_table("mail_intake")
    with op.batch_alter_table("mail_message") as batch:
        batch.drop_column("record_id")
