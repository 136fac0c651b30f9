"""Chat channels on webhook subscriptions (Slack, Teams) with their template; quiet hours and
unsubscriptions; recipients by kind (field, address, group, role, CAB, supplier contact, relationship manager)
and mandatory rules; the directory of people notify owns; and the default rules a service desk
expects (`created_by: system`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
SEEDED_AT = datetime(2026, 12, 7, tzinfo=UTC)


def _rule(
    n: int, name: str, pattern: str, template: str, recipients: list[dict[str, str]], **more: Any
) -> dict[str, Any]:
    return {
        "id": UUID(f"6f1d2b0e-0000-4000-8000-{n:012d}"),
        "name": name,
        "event_pattern": pattern,
        "data_filter": more.get("data_filter", {}),
        "template": template,
        "recipient_fields": [],
        "recipients": recipients,
        "mandatory": more.get("mandatory", False),
        "enabled": True,
        "created_by": "system",
        "created_at": SEEDED_AT,
    }


def _field(path: str) -> dict[str, str]:
    return {"kind": "field", "value": path}


GROUP = {"kind": "group", "value": "data.assignment_group"}
DEFAULT_RULES = [
    _rule(
        3,
        "incident created: acknowledge to the caller",
        "incident.created.v1",
        "incident_created",
        [_field("data.caller")],
    ),
    _rule(
        4,
        "request submitted: acknowledge to the requester",
        "request.submitted.v1",
        "request_submitted",
        [_field("data.requester")],
    ),
    _rule(5, "SLA warning: tell the assignment group", "sla.warning.v1", "sla_warning", [GROUP], mandatory=True),
    _rule(6, "SLA breached: tell the assignment group", "sla.breached.v1", "sla_breached", [GROUP], mandatory=True),
    _rule(
        7,
        "change assessed: CAB vote needed",
        "change.assessed.v1",
        "change_vote_needed",
        [{"kind": "cab", "value": ""}],
        mandatory=True,
    ),
    _rule(
        8, "change approved: tell the requester", "change.approved.v1", "change_approved", [_field("data.requested_by")]
    ),
    _rule(
        9, "change rejected: tell the requester", "change.rejected.v1", "change_rejected", [_field("data.requested_by")]
    ),
    _rule(
        10,
        "change scheduled: tell the requester",
        "change.scheduled.v1",
        "change_scheduled",
        [_field("data.requested_by")],
    ),
    _rule(
        11,
        "change failed: tell the requester",
        "change.failed.v1",
        "change_failed",
        [_field("data.requested_by")],
        mandatory=True,
    ),
    _rule(
        12,
        "contract expiring: tell the supplier contact and contract managers",
        "contract.expiring.v1",
        "contract_expiring",
        [{"kind": "supplier_contact", "value": "data.supplier_id"}, {"kind": "role", "value": "contract_manager"}],
    ),
]


def upgrade() -> None:
    op.add_column("webhook_subscription", sa.Column("channel", sa.String(20), nullable=False, server_default="webhook"))
    op.add_column("webhook_subscription", sa.Column("template", sa.String(100), nullable=True))
    op.add_column("notification_rule", sa.Column("recipients", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("notification_rule", sa.Column("mandatory", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "directory_person",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("suppliers", sa.JSON(), nullable=False),
        sa.Column("customers", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("quiet_start", sa.String(5), nullable=True),
        sa.Column("quiet_end", sa.String(5), nullable=True),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_directory_person")),
    )
    op.add_column("mail_message", sa.Column("unsubscribe_url", sa.String(1000), nullable=True))
    op.create_table(
        "unsubscription",
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["notification_rule.id"],
            name=op.f("fk_unsubscription_rule_id_notification_rule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("address", "rule_id", name=op.f("pk_unsubscription")),
    )
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
    op.drop_table("unsubscription")
    op.drop_column("mail_message", "unsubscribe_url")
    op.drop_table("directory_person")
    op.drop_column("webhook_subscription", "template")
    op.drop_column("webhook_subscription", "channel")
    op.drop_column("notification_rule", "mandatory")
    op.drop_column("notification_rule", "recipients")
