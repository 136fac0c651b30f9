"""Supplier attribution through contracts: what each contract covers, and when it was in force.

`contract_coverage_facts` holds the CIs and services each contract covers (from
contract.activated.v1 and the amendments that change `ci_ids` or `service_ids`);
`contract_facts` gains `activated_at` and `ended_at` (terminated or expired); `incident_facts` is
indexed on `ci_id` and `supplier_id` where they are set (a supplier's incidents are found
through them). The fact tables are projections of the event log: after upgrading,
`POST /api/v1/projections/rebuild` fills the new table and columns from the events already
received (until then the suppliers report and the supplier filter count only incidents assigned
to a supplier, as before).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("contract_facts", sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("contract_facts", sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "contract_coverage_facts",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("item_kind", sa.String(200), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("covered", sa.Boolean(), nullable=True),
        sa.Column("covered_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "item_kind", "item_id", name=op.f("pk_contract_coverage_facts")),
    )
    op.create_index(op.f("ix_contract_coverage_facts_item_id"), "contract_coverage_facts", ["item_id"])
    for column in ("ci_id", "supplier_id"):
        where = sa.column(column).is_not(None)
        op.create_index(
            op.f(f"ix_incident_facts_{column}"),
            "incident_facts",
            [column],
            postgresql_where=where,
            sqlite_where=where,
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_facts_supplier_id"), table_name="incident_facts")
    op.drop_index(op.f("ix_incident_facts_ci_id"), table_name="incident_facts")
    op.drop_index(op.f("ix_contract_coverage_facts_item_id"), table_name="contract_coverage_facts")
    op.drop_table("contract_coverage_facts")
    op.drop_column("contract_facts", "ended_at")
    op.drop_column("contract_facts", "activated_at")
