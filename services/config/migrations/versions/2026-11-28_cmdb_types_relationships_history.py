"""CI types, relationships, versions and the change read model; more CI fields.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("config_item") as batch:
        batch.alter_column("type", existing_type=sa.String(30), type_=sa.String(50), existing_nullable=False)
        batch.add_column(sa.Column("description", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("service_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("supplier_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("location_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("product_version", sa.String(100), nullable=True))
        batch.add_column(sa.Column("controlled", sa.Boolean(), server_default="0", nullable=False))
        batch.create_index(batch.f("ix_config_item_service_id"), ["service_id"])
        batch.create_index(batch.f("ix_config_item_supplier_id"), ["supplier_id"])

    op.create_table(
        "ci_type",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("attribute_schema", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ci_type")),
    )
    op.create_table(
        "ci_version",
        sa.Column("ci_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("cause_kind", sa.String(20), nullable=False),
        sa.Column("cause_reference", sa.String(100), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("ci_id", "version", name=op.f("pk_ci_version")),
    )
    op.create_table(
        "ci_relationship",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ci_relationship")),
        sa.UniqueConstraint("source_id", "type", "target_id", name="uq_ci_relationship_edge"),
    )
    op.create_index(op.f("ix_ci_relationship_source_id"), "ci_relationship", ["source_id"])
    op.create_index(op.f("ix_ci_relationship_target_id"), "ci_relationship", ["target_id"])
    op.create_table(
        "relationship_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("relationship_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("cause_kind", sa.String(20), nullable=False),
        sa.Column("cause_reference", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relationship_history")),
    )
    for column in ("relationship_id", "source_id", "target_id"):
        op.create_index(op.f(f"ix_relationship_history_{column}"), "relationship_history", [column])
    op.create_table(
        "change_window",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("planned_start", _TS, nullable=True),
        sa.Column("planned_end", _TS, nullable=True),
        sa.Column("affected_ci_ids", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_change_window")),
        sa.UniqueConstraint("number", name=op.f("uq_change_window_number")),
    )
    _first_versions_for_existing_items()


def _first_versions_for_existing_items() -> None:
    """Every CI that exists before this revision gets a first version, so history and as_of cover it."""
    bind = op.get_bind()
    items = sa.table(
        "config_item",
        sa.column("id", sa.Uuid()),
        sa.column("attributes", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        *(sa.column(c) for c in ("number", "name", "type", "status", "criticality", "owner", "version")),
        *(sa.column(c) for c in ("serial", "hostname", "fqdn", "cloud_id")),
    )
    versions = sa.table(
        "ci_version",
        *(sa.column(c) for c in ("version", "actor", "cause_kind", "cause_reference")),
        sa.column("ci_id", sa.Uuid()),
        sa.column("recorded_at", sa.DateTime(timezone=True)),
        sa.column("changes", sa.JSON()),
        sa.column("snapshot", sa.JSON()),
    )
    for row in bind.execute(sa.select(items)).mappings():
        snapshot = {
            "id": str(row["id"]),
            "number": row["number"],
            "name": row["name"],
            "type": row["type"],
            "status": row["status"],
            "criticality": row["criticality"],
            "owner": row["owner"],
            "description": "",
            "service_id": None,
            "supplier_id": None,
            "location_id": None,
            "product_version": None,
            "identifiers": {k: row[k] for k in ("serial", "hostname", "fqdn", "cloud_id")},
            "attributes": row["attributes"] if isinstance(row["attributes"], dict) else {},
            "controlled": False,
            "version": row["version"],
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]),
        }
        bind.execute(
            versions.insert().values(
                ci_id=row["id"],
                version=row["version"],
                recorded_at=row["updated_at"],
                actor="migration",
                cause_kind="import",
                cause_reference="0002",
                changes={},
                snapshot=snapshot,
            )
        )


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return str(value)


def downgrade() -> None:
    op.drop_table("change_window")
    op.drop_table("relationship_history")
    op.drop_table("ci_relationship")
    op.drop_table("ci_version")
    op.drop_table("ci_type")
    with op.batch_alter_table("config_item") as batch:
        batch.drop_index(batch.f("ix_config_item_supplier_id"))
        batch.drop_index(batch.f("ix_config_item_service_id"))
        for column in ("controlled", "product_version", "location_id", "supplier_id", "service_id", "description"):
            batch.drop_column(column)
        batch.alter_column("type", existing_type=sa.String(50), type_=sa.String(30), existing_nullable=False)
