"""Alert intake routes: the Prometheus Alertmanager webhook, and the alerts received."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from services.incident.api.deps import POLICY, Caller
from services.incident.schemas.alerts import (
    AlertIntakeRead,
    AlertmanagerWebhook,
    AlertOutcomeRead,
    AlertPage,
    AlertRead,
)
from services.incident.store import alerts
from services.incident.usecases import alerts as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""


@router.post(
    "/alertmanager",
    response_model=AlertIntakeRead,
    summary="Prometheus Alertmanager webhook (payload version 4, as sent)",
    description=(
        "Point an Alertmanager `webhook_configs` receiver here with `http_config.authorization.credentials` set to "
        "a service token holding the `monitoring` (or `agent`) role. A firing alert opens an incident (channel "
        "monitoring; CI from the `ci_id` label; impact from `impact`, urgency from `urgency` or `severity`); the "
        "same alert (fingerprint) firing again counts an occurrence on that incident while it is open; a resolved "
        "alert adds a note and resolves the incident when monitoring opened it and nobody has acted on it since."
    ),
)
async def alertmanager_webhook(
    body: AlertmanagerWebhook, uow: UnitOfWorkDep, who: Caller, request: Request
) -> AlertIntakeRead:
    notification = usecases.Notification(
        receiver=body.receiver,
        sender=who.subject,
        alerts=[
            usecases.Alert(
                status=a.status,
                labels=a.labels,
                annotations=a.annotations,
                starts_at=a.starts_at,
                ends_at=a.ends_at,
                generator_url=a.generator_url,
                fingerprint=a.fingerprint,
            )
            for a in body.alerts
        ],
    )
    defaults = usecases.defaults_of(request.app.state.settings)
    outcomes = await usecases.receive(notification, uow, defaults)
    return AlertIntakeRead(
        receiver=body.receiver,
        results=[
            AlertOutcomeRead(
                fingerprint=o.fingerprint,
                status="firing" if o.status == "firing" else "resolved",
                action=o.action,
                incident_id=o.incident_id,
                incident_number=o.incident_number,
                occurrences=o.occurrences,
                change_number=o.change_number,
            )
            for o in outcomes
        ],
    )


@router.get("", response_model=AlertPage)
async def list_alerts(
    conn: ReadConnectionDep,
    fingerprint: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    incident_id: UUID | None = None,
    status: Literal["firing", "resolved"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AlertPage:
    rows, total = await alerts.list_alerts(
        conn, fingerprint=fingerprint, incident_id=incident_id, status=status, limit=limit, offset=offset
    )
    return AlertPage(
        items=[AlertRead.model_validate(r, from_attributes=True) for r in rows], total=total, limit=limit, offset=offset
    )
