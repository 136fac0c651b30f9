"""The service-levels figures per UTC day, service and priority, kept exact by triggers on
incident_facts: `service_level_day_change` receives +1/-1 rows as an incident starts or stops
counting for a (day, service, priority) and for its response/resolution results;
`service_level_day` holds them merged (the `service-level-days` periodic job moves the changes
in). The report sums both: a year is ~90,000 rows instead of every incident.

A missing service is the nil UUID here (a key column may not be NULL).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ("incidents", "response_measured", "response_met", "resolution_measured", "resolution_met")
NIL = "00000000-0000-0000-0000-000000000000"
WATCHED = ("opened_at", "service_id", "priority", "response_met", "resolution_met", "response_breached")
WATCHED += ("resolution_breached",)


def _counts() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS]


def _values(row: str, sign: str, dialect: str) -> str:
    """The VALUES of a change row for the OLD or NEW incident row, +1 or -1."""
    if dialect == "postgresql":
        day = f"({row}.opened_at AT TIME ZONE 'UTC')::date"
        service = f"coalesce({row}.service_id, '{NIL}'::uuid)"
        flag = lambda expr: f"{sign}({expr})::int"  # noqa: E731
    else:
        day = f"date({row}.opened_at)"
        service = f"coalesce({row}.service_id, '{NIL.replace('-', '')}')"
        flag = lambda expr: f"{sign}({expr})"  # noqa: E731
    true = "IS TRUE" if dialect == "postgresql" else "IS 1"
    false = "false" if dialect == "postgresql" else "0"

    def verdict(target: str) -> str:
        """Met or missed as store.sla_verdict says: the reported result, else missed if notified."""
        return f"coalesce({row}.{target}_met, CASE WHEN {row}.{target}_breached {true} THEN {false} END)"

    return ", ".join(
        [
            day,
            service,
            f"{row}.priority",
            f"{sign}1",
            flag(f"{verdict('response')} IS NOT NULL"),
            flag(f"{verdict('response')} {true}"),
            flag(f"{verdict('resolution')} IS NOT NULL"),
            flag(f"{verdict('resolution')} {true}"),
        ]
    )


INSERT = "INSERT INTO service_level_day_change (day, service_id, priority, " + ", ".join(COUNTS) + ")"


def upgrade() -> None:
    op.create_table(
        "service_level_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint("day", "service_id", "priority", name=op.f("pk_service_level_day")),
    )
    op.create_table(
        "service_level_day_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_level_day_change")),
    )
    dialect = op.get_bind().dialect.name
    counted = "{row}.opened_at IS NOT NULL AND {row}.priority IS NOT NULL"
    if dialect == "postgresql":
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
        op.execute(
            f"""
            CREATE FUNCTION service_level_day_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' AND {counted.format(row="OLD")} THEN
                    {INSERT} VALUES ({_values("OLD", "-", dialect)});
                END IF;
                IF TG_OP <> 'DELETE' AND {counted.format(row="NEW")} THEN
                    {INSERT} VALUES ({_values("NEW", "", dialect)});
                END IF;
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER service_level_day_insert_delete AFTER INSERT OR DELETE ON incident_facts "
            "FOR EACH ROW EXECUTE FUNCTION service_level_day_change()"
        )
        op.execute(
            f"CREATE TRIGGER service_level_day_update AFTER UPDATE ON incident_facts FOR EACH ROW WHEN ({changed}) "
            "EXECUTE FUNCTION service_level_day_change()"
        )
    else:
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
        old = f"{INSERT} SELECT {_values('OLD', '-', dialect)} WHERE {counted.format(row='OLD')};"
        new = f"{INSERT} SELECT {_values('NEW', '', dialect)} WHERE {counted.format(row='NEW')};"
        op.execute(f"CREATE TRIGGER service_level_day_insert AFTER INSERT ON incident_facts BEGIN {new} END")
        op.execute(f"CREATE TRIGGER service_level_day_delete AFTER DELETE ON incident_facts BEGIN {old} END")
        op.execute(
            f"CREATE TRIGGER service_level_day_update AFTER UPDATE ON incident_facts WHEN {changed} "
            f"BEGIN {old} {new} END"
        )
    # The incidents already projected, as one change row each (merged by the next compaction).
    op.execute(
        f"{INSERT} SELECT "
        + _values("incident_facts", "", dialect)
        + " FROM incident_facts WHERE "
        + counted.format(row="incident_facts")
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER service_level_day_update ON incident_facts")
        op.execute("DROP TRIGGER service_level_day_insert_delete ON incident_facts")
        op.execute("DROP FUNCTION service_level_day_change()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER service_level_day_{name}")
    op.drop_table("service_level_day_change")
    op.drop_table("service_level_day")
