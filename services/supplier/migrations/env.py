"""Alembic environment of the supplier service."""

from services.supplier.settings import SupplierSettings
from services.supplier.store.tables import metadata
from shared.migrations import run_env

run_env(metadata, SupplierSettings().database_url)
