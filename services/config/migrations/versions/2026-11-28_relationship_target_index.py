"""Relationships by target: one index on (target_id, type, source_id) in place of (target_id).

Impact analysis asks, for each CI of a level, for the relationships of the types impact flows
along that end at it; with the type and the other end in the index PostgreSQL answers from the
index alone, as the unique (source_id, type, target_id) index already does from the source side.
Every query on target_id alone uses the new index as it used the old one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_ci_relationship_target_id_type_source_id", "ci_relationship", ["target_id", "type", "source_id"]
    )
    op.drop_index("ix_ci_relationship_target_id", table_name="ci_relationship")


def downgrade() -> None:
    op.create_index("ix_ci_relationship_target_id", "ci_relationship", ["target_id"])
    op.drop_index("ix_ci_relationship_target_id_type_source_id", table_name="ci_relationship")
