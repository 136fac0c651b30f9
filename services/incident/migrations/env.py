"""Alembic environment of the incident service."""

import services.incident.requests.store
import services.incident.sla.store  # noqa: F401  (their tables join the metadata)
from services.incident import store_problem  # noqa: F401  (puts problem management's tables on the metadata)
from services.incident.settings import IncidentSettings
from services.incident.store import metadata
from shared.migrations import run_env

run_env(metadata, IncidentSettings().database_url)
