"""Change service composition root: `uvicorn --factory services.change.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.change import api, store, worker
from services.change.settings import ChangeSettings
from shared.app import build_app
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="change",
    title="ITSM change service",
    description="Requests for change, approvals and the change schedule; releases (ISO/IEC 20000-1 9.2, 9.3, 5).",
    metadata=store.metadata,
    handlers=worker.HANDLERS,
)


def create_app(settings: ChangeSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or ChangeSettings(), [api.router])
