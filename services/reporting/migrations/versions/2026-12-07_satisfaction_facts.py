"""Satisfaction facts (ISO/IEC 20000-1 7.1): `survey_facts` (from survey.issued.v1 and
survey.answered.v1) and `complaint_facts` (from complaint.*), read by the satisfaction report. They
are projections of the event log: after upgrading, `POST /api/v1/projections/rebuild` fills them
from the events already received.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "survey_facts",
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(200), nullable=True),
        sa.Column("ticket_kind", sa.String(200), nullable=True),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("respondent", sa.String(200), nullable=True),
        sa.Column("issued_at", _TS, nullable=True),
        sa.Column("answered_at", _TS, nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("complaint_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("survey_id", name=op.f("pk_survey_facts")),
    )
    op.create_index(op.f("ix_survey_facts_issued_at"), "survey_facts", ["issued_at"])
    op.create_table(
        "complaint_facts",
        sa.Column("complaint_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(200), nullable=True),
        sa.Column("complainant", sa.String(200), nullable=True),
        sa.Column("received_via", sa.String(200), nullable=True),
        sa.Column("received_at", _TS, nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("service_id_stamp", _TS, nullable=True),
        sa.Column("status", sa.String(200), nullable=True),
        sa.Column("status_stamp", _TS, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_complaint_facts")),
    )
    op.create_index(op.f("ix_complaint_facts_received_at"), "complaint_facts", ["received_at"])


def downgrade() -> None:
    op.drop_table("complaint_facts")
    op.drop_table("survey_facts")
