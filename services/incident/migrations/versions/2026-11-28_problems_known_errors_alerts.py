"""Problem management and alert intake: problems (with history and incident links), the known
error database, the facts problem analysis keeps from events (incidents, changes on CIs), links
of incidents to changes, alerts received from monitoring; link fields on the incident.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import BigIntKey
from shared.numbering import sequence_name

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
SEQUENCES = ("problem", "known_error")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in SEQUENCES:
            op.execute(f"CREATE SEQUENCE {sequence_name(name)} START 1")
    op.create_table(
        "change_on_ci",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("ci_id", sa.Uuid(), nullable=False),
        sa.Column("change_number", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("planned_start", _TS, nullable=True),
        sa.Column("planned_end", _TS, nullable=True),
        sa.Column("implemented_at", _TS, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("change_id", "ci_id", name=op.f("pk_change_on_ci")),
    )
    with op.batch_alter_table("change_on_ci") as batch_op:
        batch_op.create_index(batch_op.f("ix_change_on_ci_ci_id"), ["ci_id"], unique=False)

    op.create_table(
        "incident_change_link",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("change_number", sa.String(length=20), nullable=False),
        sa.Column("ci_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("change_implemented_at", _TS, nullable=True),
        sa.Column("linked_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "change_id", name=op.f("pk_incident_change_link")),
    )
    with op.batch_alter_table("incident_change_link") as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_change_link_change_id"), ["change_id"], unique=False)

    op.create_table(
        "incident_fact",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("ci_id", sa.Uuid(), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("opened_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_fact")),
    )
    with op.batch_alter_table("incident_fact") as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_fact_ci_id"), ["ci_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_fact_opened_at"), ["opened_at"], unique=False)
        batch_op.create_index("ix_incident_fact_service_category", ["service_id", "category"], unique=False)

    op.create_table(
        "known_error",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("problem_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("symptoms", sa.Text(), server_default="", nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("workaround", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ci_id", sa.Uuid(), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_error")),
        sa.UniqueConstraint("number", name=op.f("uq_known_error_number")),
        sa.UniqueConstraint("problem_id", name=op.f("uq_known_error_problem_id")),
    )
    with op.batch_alter_table("known_error") as batch_op:
        batch_op.create_index(batch_op.f("ix_known_error_ci_id"), ["ci_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_known_error_service_id"), ["service_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_known_error_status"), ["status"], unique=False)

    op.create_table(
        "monitoring_alert",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.String(length=100), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("alertname", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("starts_at", _TS, nullable=False),
        sa.Column("ends_at", _TS, nullable=True),
        sa.Column("generator_url", sa.Text(), server_default="", nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("change_id", sa.Uuid(), nullable=True),
        sa.Column("change_number", sa.String(length=20), nullable=True),
        sa.Column("receiver", sa.String(length=200), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_alert")),
    )
    with op.batch_alter_table("monitoring_alert") as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_alert_fingerprint"), ["fingerprint"], unique=False)
        batch_op.create_index(batch_op.f("ix_monitoring_alert_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "problem",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("ci_id", sa.Uuid(), nullable=True),
        sa.Column("service_id", sa.Uuid(), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("root_cause", sa.Text(), server_default="", nullable=False),
        sa.Column("workaround", sa.Text(), server_default="", nullable=False),
        sa.Column("resolution", sa.Text(), server_default="", nullable=False),
        sa.Column("change_id", sa.Uuid(), nullable=True),
        sa.Column("change_number", sa.String(length=20), nullable=True),
        sa.Column("known_error_id", sa.Uuid(), nullable=True),
        sa.Column("recurrence_key", sa.String(length=200), nullable=True),
        sa.Column("open_recurrence_key", sa.String(length=200), nullable=True),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("opened_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("resolved_at", _TS, nullable=True),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem")),
        sa.UniqueConstraint("number", name=op.f("uq_problem_number")),
        sa.UniqueConstraint("open_recurrence_key", name=op.f("uq_problem_open_recurrence_key")),
    )
    with op.batch_alter_table("problem") as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_ci_id"), ["ci_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_problem_service_id"), ["service_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_problem_status"), ["status"], unique=False)

    op.create_table(
        "problem_history",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("problem_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_history")),
    )
    with op.batch_alter_table("problem_history") as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_history_problem_id"), ["problem_id"], unique=False)

    op.create_table(
        "problem_incident",
        sa.Column("problem_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("incident_number", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("linked_at", _TS, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("problem_id", "incident_id", name=op.f("pk_problem_incident")),
    )
    with op.batch_alter_table("problem_incident") as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_incident_incident_id"), ["incident_id"], unique=False)

    with op.batch_alter_table("incident") as batch_op:
        batch_op.add_column(sa.Column("problem_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("problem_number", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("known_error_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("workaround", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("caused_by_change_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("caused_by_change_number", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_incident_caused_by_change_id"), ["caused_by_change_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_problem_id"), ["problem_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident") as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_problem_id"))
        batch_op.drop_index(batch_op.f("ix_incident_caused_by_change_id"))
        batch_op.drop_column("caused_by_change_number")
        batch_op.drop_column("caused_by_change_id")
        batch_op.drop_column("workaround")
        batch_op.drop_column("known_error_id")
        batch_op.drop_column("problem_number")
        batch_op.drop_column("problem_id")

    with op.batch_alter_table("problem_incident") as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_incident_incident_id"))

    op.drop_table("problem_incident")
    with op.batch_alter_table("problem_history") as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_history_problem_id"))

    op.drop_table("problem_history")
    with op.batch_alter_table("problem") as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_status"))
        batch_op.drop_index(batch_op.f("ix_problem_service_id"))
        batch_op.drop_index(batch_op.f("ix_problem_ci_id"))

    op.drop_table("problem")
    with op.batch_alter_table("monitoring_alert") as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_alert_incident_id"))
        batch_op.drop_index(batch_op.f("ix_monitoring_alert_fingerprint"))

    op.drop_table("monitoring_alert")
    with op.batch_alter_table("known_error") as batch_op:
        batch_op.drop_index(batch_op.f("ix_known_error_status"))
        batch_op.drop_index(batch_op.f("ix_known_error_service_id"))
        batch_op.drop_index(batch_op.f("ix_known_error_ci_id"))

    op.drop_table("known_error")
    with op.batch_alter_table("incident_fact") as batch_op:
        batch_op.drop_index("ix_incident_fact_service_category")
        batch_op.drop_index(batch_op.f("ix_incident_fact_opened_at"))
        batch_op.drop_index(batch_op.f("ix_incident_fact_ci_id"))

    op.drop_table("incident_fact")
    with op.batch_alter_table("incident_change_link") as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_change_link_change_id"))

    op.drop_table("incident_change_link")
    with op.batch_alter_table("change_on_ci") as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_on_ci_ci_id"))

    op.drop_table("change_on_ci")
    if op.get_bind().dialect.name == "postgresql":
        for name in SEQUENCES:
            op.execute(f"DROP SEQUENCE IF EXISTS {sequence_name(name)}")
