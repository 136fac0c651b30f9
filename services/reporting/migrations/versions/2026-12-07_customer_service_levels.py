"""Customer service levels (ISO/IEC 20000-1 6.1): `incident_facts.customer_id` (from
incident.created.v1) and `agreement_facts` (from config's agreement.* events), read by the customer
service levels report. They are projections of the event log: after upgrading,
`POST /api/v1/projections/rebuild` fills them from the events already received.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("incident_facts") as batch:
        batch.add_column(sa.Column("customer_id", sa.Uuid(), nullable=True))
    op.create_table(
        "agreement_facts",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(200), nullable=True),
        sa.Column("document_version", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(200), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("customer_name", sa.String(200), nullable=True),
        sa.Column("group_name", sa.String(200), nullable=True),
        sa.Column("agreed_at", _TS, nullable=True),
        sa.Column("availability_pct", sa.Float(), nullable=True),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("status", sa.String(200), nullable=True),
        sa.Column("status_stamp", _TS, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", name=op.f("pk_agreement_facts")),
    )


def downgrade() -> None:
    op.drop_table("agreement_facts")
    with op.batch_alter_table("incident_facts") as batch:
        batch.drop_column("customer_id")
