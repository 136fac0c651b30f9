"""Service requests: the request catalogue, requests (numbers REQ...) and their field history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntKey
from shared.numbering import sequence_name

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE SEQUENCE {sequence_name('request')} START 1")
    op.create_table(
        "catalogue_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("approver_role", sa.String(50), nullable=True),
        sa.Column("fulfilment_group", sa.String(100), nullable=False),
        sa.Column("default_priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_item")),
        sa.UniqueConstraint("name", name=op.f("uq_catalogue_item_name")),
    )
    op.create_index(op.f("ix_catalogue_item_service_id"), "catalogue_item", ["service_id"])
    op.create_table(
        "service_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("catalogue_item_id", sa.Uuid(), nullable=False),
        sa.Column("catalogue_item", sa.String(100), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("approver_role", sa.String(50), nullable=True),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("requested_for", sa.String(200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("assignment_group", sa.String(100), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("approver", sa.String(200), nullable=True),
        sa.Column("submitted_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("fulfilment_started_at", _TS, nullable=True),
        sa.Column("fulfilled_at", _TS, nullable=True),
        sa.Column("fulfilment_notes", sa.Text(), server_default="", nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["catalogue_item_id"],
            ["catalogue_item.id"],
            name=op.f("fk_service_request_catalogue_item_id_catalogue_item"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_request")),
        sa.UniqueConstraint("number", name=op.f("uq_service_request_number")),
    )
    for column in ("catalogue_item_id", "requester", "status", "assignment_group"):
        op.create_index(op.f(f"ix_service_request_{column}"), "service_request", [column])
    op.create_table(
        "service_request_history",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("field", sa.String(50), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_request_history")),
    )
    op.create_index(op.f("ix_service_request_history_request_id"), "service_request_history", ["request_id"])


def downgrade() -> None:
    op.drop_table("service_request_history")
    op.drop_table("service_request")
    op.drop_table("catalogue_item")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SEQUENCE IF EXISTS {sequence_name('request')}")
