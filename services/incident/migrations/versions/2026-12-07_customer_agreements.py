"""Customers' agreements drive the SLA clocks (ISO/IEC 20000-1 6.1): an incident names the customer
it is for (`incident.customer_id`); a policy set from a customer's agreed SLA names the customer and
the agreement (`sla_policy.customer_id`, `sla_policy.agreement_number`).

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
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("customer_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("sla_policy") as batch:
        batch.add_column(sa.Column("customer_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("agreement_number", sa.String(20), nullable=True))
    op.create_index(op.f("ix_sla_policy_agreement_number"), "sla_policy", ["agreement_number"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sla_policy_agreement_number"), table_name="sla_policy")
    with op.batch_alter_table("sla_policy") as batch:
        batch.drop_column("agreement_number")
        batch.drop_column("customer_id")
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("customer_id")
