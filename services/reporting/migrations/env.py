"""Alembic environment of the reporting service."""

import services.reporting.governance.store  # noqa: F401  (its tables join the metadata)
from services.reporting.settings import ReportingSettings
from services.reporting.store import metadata
from shared.migrations import run_env

run_env(metadata, ReportingSettings().database_url)
