"""The default rules of the supplier access register (ISO/IEC 20000-1 6.6.2): when an access grant
falls due for review (`supplier.access_review_due.v1`) or reaches its expiry
(`supplier.access_expired.v1`), tell the grant's owner on our side (`created_by: system`, not
mandatory).

Revision ID: 0008_accessfollow
Revises: 0007_reportrun
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from alembic import op

revision: str = "0008_accessfollow"
down_revision: str | None = "0007_reportrun"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
SEEDED_AT = datetime(2026, 12, 7, tzinfo=UTC)


def _owner_rule(rule_id: str, name: str, event_pattern: str, template: str) -> dict[str, Any]:
    return {
        "id": UUID(rule_id),
        "name": name,
        "event_pattern": event_pattern,
        "data_filter": {},
        "template": template,
        "recipient_fields": [],
        "recipients": [{"kind": "field", "value": "data.owner"}],
        "mandatory": False,
        "enabled": True,
        "created_by": "system",
        "created_at": SEEDED_AT,
    }


DEFAULT_RULES = [
    _owner_rule(
        "6f1d2b0e-0000-4000-8000-00000acce501",
        "supplier access review due: tell the grant's owner",
        "supplier.access_review_due.v1",
        "supplier_access_review_due",
    ),
    _owner_rule(
        "6f1d2b0e-0000-4000-8000-00000acce502",
        "supplier access expired: tell the grant's owner",
        "supplier.access_expired.v1",
        "supplier_access_expired",
    ),
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
