"""Alembic environment of the reporting service."""

from services.reporting.settings import ReportingSettings
from services.reporting.store.tables import metadata
from shared.migrations import run_env

run_env(metadata, ReportingSettings().database_url)
