"""Change service composition root: `uvicorn --factory services.change.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.change import worker
from services.change.api import ROUTERS
from services.change.domain.cab import Risk
from services.change.domain.schedule import ConflictKind, ConflictPolicy
from services.change.settings import ChangeSettings
from services.change.store.impact_client import ConfigImpactClient
from services.change.store.records_control import DISPOSABLES
from services.change.store.tables import metadata, retention
from services.change.usecases.changes import Governance
from shared.app import build_app
from shared.retention_store import disposal_job
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="change",
    title="ITSM change service",
    description="Requests for change, approvals and the change schedule; releases (ISO/IEC 20000-1 9.2, 9.3, 5).",
    metadata=metadata,
    handlers=worker.HANDLERS,
    # Changes past their retention period (ISO/IEC 20000-1 4.3.3).
    periodic=(disposal_job(retention, DISPOSABLES),),
)


def governance_of(settings: ChangeSettings) -> Governance:
    """The change policy the settings describe."""
    actions = {
        ConflictKind.SAME_CI: settings.conflict_same_ci,
        ConflictKind.DEPENDENT_CI: settings.conflict_dependent_ci,
        ConflictKind.BLACKOUT: settings.conflict_blackout,
        ConflictKind.OUTSIDE_MAINTENANCE_WINDOW: settings.conflict_maintenance_window,
    }
    return Governance(
        ci_check=settings.ci_check,
        conflict_policy=ConflictPolicy(frozenset(kind for kind, action in actions.items() if action == "refuse")),
        dependency_depth=settings.conflict_dependency_depth,
        cost_required_from=Risk(settings.cost_required_from_risk) if settings.cost_required_from_risk else None,
    )


def create_app(settings: ChangeSettings | None = None) -> FastAPI:
    settings = settings or ChangeSettings()

    @asynccontextmanager
    async def impact_client(app: FastAPI) -> AsyncIterator[None]:
        token = settings.config_token.get_secret_value() if settings.config_token else None
        jwt_secret = None if settings.jwt_jwks_url else settings.jwt_secret.get_secret_value()
        client = ConfigImpactClient.from_settings(
            settings.config_url, token, jwt_secret, timeout_s=settings.config_timeout_s
        )
        app.state.impact = client
        try:
            yield
        finally:
            await client.close()

    app = build_app(SPEC, settings, ROUTERS, resources=impact_client)
    app.state.governance = governance_of(settings)
    return app
