"""Alembic environment of the incident service."""

from services.incident.settings import IncidentSettings
from services.incident.store import complaints, known_changes, surveys  # noqa: F401  (their tables are on the metadata)
from services.incident.store.tables import metadata
from shared.migrations import run_env

run_env(metadata, IncidentSettings().database_url)
