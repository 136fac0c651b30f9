"""Notify service composition root: `uvicorn --factory services.notify.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.notify import worker
from services.notify.api import ROUTERS
from services.notify.settings import NotifySettings
from services.notify.store.records_control import DISPOSABLES
from services.notify.store.tables import metadata, retention
from shared.app import build_app
from shared.retention_store import disposal_job
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="notify",
    title="ITSM notify service",
    description=(
        "Tells people and tools what happened: every event of the suite delivered to integrators' webhooks"
        " (CloudEvents over HTTP, signed per Standard Webhooks), with retries, a delivery log and replay;"
        " and e-mail to people by notification rules (Jinja2 templates, SMTP), with a delivery log."
    ),
    metadata=metadata,
    handlers=worker.HANDLERS,
    # Messages and deliveries past their retention period (ISO/IEC 20000-1 4.3.3).
    periodic=(*worker.PERIODIC, disposal_job(retention, DISPOSABLES)),
)


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or NotifySettings(), ROUTERS)
