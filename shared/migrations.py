"""Alembic per service: the body of each `env.py`, and upgrade/check commands used by the CLI.

Migrations run only when asked (`itsm migrate`, `alembic -n <service> upgrade head`), never at
import or startup. Each service keeps its scripts in `services/<service>/migrations/`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import async_engine_from_config

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    _ensure_sqlite_folder(database_url)
    command.upgrade(alembic_config(service, database_url), revision)


def downgrade(service: str, database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(service, database_url), revision)


def check(service: str, database_url: str) -> None:
    """Fail when the models and the migrations disagree (like `alembic check`)."""
    command.check(alembic_config(service, database_url))


def _ensure_sqlite_folder(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def run_env(metadata: MetaData, default_url: str) -> None:
    """The whole of a service's `migrations/env.py`."""
    config = context.config
    url = (
        context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url") or default_url
    )
    render_as_batch = make_url(url).get_backend_name() == "sqlite"
    _ensure_sqlite_folder(url)
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=render_as_batch)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=render_as_batch, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()

    async def online() -> None:
        section = config.get_section(config.config_ini_section, {})
        section["sqlalchemy.url"] = url
        engine = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(online())


def create_platform_tables(sequences: tuple[str, ...] = ()) -> None:
    """In a service's first migration: the outbox, the inbox and the record-number counters."""
    import sqlalchemy as sa
    from alembic import op

    from shared.db import BigIntKey

    op.create_table(
        "outbox",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index(op.f("ix_outbox_published_at"), "outbox", ["published_at"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
    )
    op.create_table(
        "number_sequence",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("value", BigIntKey, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_number_sequence")),
    )
    if op.get_bind().dialect.name == "postgresql":
        from shared.numbering import sequence_name

        for name in sequences:
            op.execute(f"CREATE SEQUENCE {sequence_name(name)} START 1")


def drop_platform_tables(sequences: tuple[str, ...] = ()) -> None:
    from alembic import op

    if op.get_bind().dialect.name == "postgresql":
        from shared.numbering import sequence_name

        for name in sequences:
            op.execute(f"DROP SEQUENCE IF EXISTS {sequence_name(name)}")
    op.drop_table("number_sequence")
    op.drop_table("inbox")
    op.drop_index(op.f("ix_outbox_published_at"), table_name="outbox")
    op.drop_table("outbox")
