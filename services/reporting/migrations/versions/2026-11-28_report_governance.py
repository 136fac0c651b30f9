"""Report governance (ISO/IEC 20000-1 6.2): agreement versions per report, the agreement version
and content hash of each stored run, the distribution log of runs, findings and actions on runs.

Stored runs, agreement versions and findings are records that are never changed: triggers refuse
an UPDATE or DELETE of their rows (PostgreSQL and SQLite alike).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("report_run", "report_agreement", "report_finding")


def upgrade() -> None:
    with op.batch_alter_table("report_run") as batch:
        batch.add_column(sa.Column("agreement_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("content_sha256", sa.String(64), nullable=True))
    op.create_table(
        "report_agreement",
        sa.Column("report", sa.String(50), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("agreed_with", sa.JSON(), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("distribution_list", sa.JSON(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("report", "version", name=op.f("pk_report_agreement")),
    )
    op.create_table(
        "report_distribution",
        sa.Column("distribution_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(2000), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["report_run.run_id"], name=op.f("fk_report_distribution_run_id_report_run")
        ),
        sa.PrimaryKeyConstraint("distribution_id", name=op.f("pk_report_distribution")),
        sa.UniqueConstraint("run_id", "channel", "recipient", name=op.f("uq_report_distribution_run_id")),
    )
    op.create_index(op.f("ix_report_distribution_run_id"), "report_distribution", ["run_id"])
    op.create_index("ix_report_distribution_due", "report_distribution", ["status", "next_attempt_at"])
    op.create_table(
        "report_finding",
        sa.Column("finding_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["report_run.run_id"], name=op.f("fk_report_finding_run_id_report_run")),
        sa.PrimaryKeyConstraint("finding_id", name=op.f("pk_report_finding")),
    )
    op.create_index(op.f("ix_report_finding_run_id"), "report_finding", ["run_id"])
    _refuse_changes()


def _refuse_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION reporting_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '% rows are records: never updated or deleted', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION reporting_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for what in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{what} BEFORE {what.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are records: never updated or deleted'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION reporting_append_only()")
    else:
        for table in APPEND_ONLY:
            for what in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{what}")
    op.drop_index(op.f("ix_report_finding_run_id"), table_name="report_finding")
    op.drop_table("report_finding")
    op.drop_index("ix_report_distribution_due", table_name="report_distribution")
    op.drop_index(op.f("ix_report_distribution_run_id"), table_name="report_distribution")
    op.drop_table("report_distribution")
    op.drop_table("report_agreement")
    with op.batch_alter_table("report_run") as batch:
        batch.drop_column("content_sha256")
        batch.drop_column("agreement_version")
