"""The default rule for an agreed report run (`report.run_completed.v1`, which reporting publishes
when it stores a run): tell the report's owner, the parties it is agreed with, and the service
level managers (`created_by: system`, not mandatory).

Revision ID: 0007_reportrun
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa
from alembic import op

revision: str = "0007_reportrun"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
SEEDED_AT = datetime(2026, 12, 7, tzinfo=UTC)
DEFAULT_RULES = [
    {
        "id": UUID("6f1d2b0e-0000-4000-8000-000000000013"),
        "name": "report run: tell the owner, the parties it is agreed with and the service level managers",
        "event_pattern": "report.run_completed.v1",
        "data_filter": {},
        "template": "report_run_completed",
        "recipient_fields": [],
        "recipients": [
            {"kind": "field", "value": "data.owner"},
            {"kind": "field", "value": "data.agreed_with"},
            {"kind": "role", "value": "service_level_manager"},
        ],
        "mandatory": False,
        "enabled": True,
        "created_by": "system",
        "created_at": SEEDED_AT,
    }
]


def upgrade() -> None:
    rules = sa.table(
        "notification_rule",
        *(
            sa.column(c, t)
            for c, t in [
                ("id", sa.Uuid()),
                ("name", sa.String()),
                ("event_pattern", sa.String()),
                ("data_filter", sa.JSON()),
                ("template", sa.String()),
                ("recipient_fields", sa.JSON()),
                ("recipients", sa.JSON()),
                ("mandatory", sa.Boolean()),
                ("enabled", sa.Boolean()),
                ("created_by", sa.String()),
                ("created_at", TIME),
            ]
        ),
    )
    op.bulk_insert(rules, DEFAULT_RULES)


def downgrade() -> None:
    ids = ", ".join(f"'{r['id'].hex}'" for r in DEFAULT_RULES)
    op.execute(sa.text(f"DELETE FROM notification_rule WHERE id IN ({ids})"))
