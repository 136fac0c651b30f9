"""Alembic environment of the configuration service."""

from services.config.settings import ConfigSettings
from services.config.store.tables import metadata
from shared.migrations import run_env

run_env(metadata, ConfigSettings().database_url)
