"""Satisfaction surveys (ISO/IEC 20000-1 7.1): one survey (numbers SRV...) per resolved ticket that
was sampled, or per person of a periodic campaign's sample (SVC..., with the evidence of its
draw), its single answer and the complaint a low score opened.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.numbering import sequence_name

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE SEQUENCE {sequence_name('survey')} START 1")
    op.create_table(
        "survey",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("ticket_kind", sa.String(10), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_number", sa.String(20), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("respondent", sa.String(200), nullable=False),
        sa.Column("issued_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("answered_at", _TS, nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("complaint_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey")),
        sa.UniqueConstraint("number", name=op.f("uq_survey_number")),
        sa.UniqueConstraint("ticket_id", "respondent", name="uq_survey_ticket_id_respondent"),
    )
    op.create_index(op.f("ix_survey_service_id"), "survey", ["service_id"])
    op.create_index("ix_survey_respondent_issued_at", "survey", ["respondent", "issued_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE SEQUENCE {sequence_name('survey_campaign')} START 1")
    op.create_table(
        "survey_campaign",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("frame_start", _TS, nullable=False),
        sa.Column("frame_end", _TS, nullable=False),
        sa.Column("launched_at", _TS, nullable=False),
        sa.Column("launched_by", sa.String(200), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("surveys", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_campaign")),
        sa.UniqueConstraint("number", name=op.f("uq_survey_campaign_number")),
    )
    op.create_index(op.f("ix_survey_campaign_launched_at"), "survey_campaign", ["launched_at"])


def downgrade() -> None:
    op.drop_table("survey_campaign")
    op.drop_table("survey")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SEQUENCE IF EXISTS {sequence_name('survey_campaign')}")
        op.execute(f"DROP SEQUENCE IF EXISTS {sequence_name('survey')}")
