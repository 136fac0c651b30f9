"""Alembic environment of the change service."""

from services.change.settings import ChangeSettings
from services.change.store.tables import metadata
from shared.migrations import run_env

run_env(metadata, ChangeSettings().database_url)
