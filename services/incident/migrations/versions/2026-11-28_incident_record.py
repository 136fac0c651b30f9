"""The incident record: classification, service and supplier, priority override, major incident
and its review, the timeline's notes, closing by rule; the local CI read model; idempotency keys.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.ci_read_model import create_ci_read_model_tables, drop_ci_read_model_tables
from shared.db import BigIntKey
from shared.idempotency import create_idempotency_table, drop_idempotency_table

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("category", sa.String(100), nullable=True))
        batch.add_column(sa.Column("subcategory", sa.String(100), nullable=True))
        batch.add_column(sa.Column("service_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("supplier_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("priority_override_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("major", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("major_manager", sa.String(200), nullable=True))
        batch.add_column(sa.Column("major_declared_at", _TS, nullable=True))
        batch.add_column(sa.Column("closed_by", sa.String(20), nullable=True))
        batch.create_index(batch.f("ix_incident_category"), ["category"])
        batch.create_index(batch.f("ix_incident_service_id"), ["service_id"])
        batch.create_index(batch.f("ix_incident_supplier_id"), ["supplier_id"])
    op.create_table(
        "incident_note",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("visibility", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_note")),
    )
    op.create_index(op.f("ix_incident_note_incident_id"), "incident_note", ["incident_id"])
    op.create_table(
        "incident_review",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("lessons", sa.Text(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_review")),
    )
    create_ci_read_model_tables()
    create_idempotency_table()


def downgrade() -> None:
    drop_idempotency_table()
    drop_ci_read_model_tables()
    op.drop_table("incident_review")
    op.drop_table("incident_note")
    with op.batch_alter_table("incident") as batch:
        for index in ("ix_incident_supplier_id", "ix_incident_service_id", "ix_incident_category"):
            batch.drop_index(batch.f(index))
        for column in (
            "closed_by",
            "major_declared_at",
            "major_manager",
            "major",
            "priority_override_reason",
            "supplier_id",
            "service_id",
            "subcategory",
            "category",
        ):
            batch.drop_column(column)
