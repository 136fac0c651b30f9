"""Alembic environment of the change service."""

import services.change.delivery.store  # noqa: F401 - its tables are on the same metadata
from services.change.settings import ChangeSettings
from services.change.store import metadata
from shared.migrations import run_env

run_env(metadata, ChangeSettings().database_url)
