"""Alembic environment of the notify service."""

from services.notify.settings import NotifySettings
from services.notify.store.tables import metadata
from shared.migrations import run_env

run_env(metadata, NotifySettings().database_url)
