"""The deployment gate's route: may a pipeline deploy this service to this environment now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from services.change.api.deps import POLICY
from services.change.schemas.gate import GateRead
from services.change.settings import ChangeSettings
from services.change.usecases import gate as usecases
from shared.app import ReadConnectionDep

router = APIRouter(prefix="/api/v1", tags=["gate"], dependencies=[Depends(POLICY.enforce)])


@router.get(
    "/gate",
    response_model=GateRead,
    summary="May a pipeline deploy this service to this environment now? Block on `allowed`",
)
async def deployment_gate(
    request: Request,
    conn: ReadConnectionDep,
    service: Annotated[str, Query(min_length=1, max_length=200, description="Service id, or the pipeline's name")],
    environment: Annotated[str, Query(min_length=1, max_length=50, examples=["production"])],
) -> GateRead:
    """Always 200 with `allowed` true or false and the `reasons`: a pipeline step fails itself when
    `allowed` is false, e.g. `curl -s .../gate?service=acme/checkout&environment=production | jq -e .allowed`."""
    settings: ChangeSettings = request.app.state.settings
    asked = await usecases.ask_gate(conn, service=service, environment=environment, gated=settings.gated_environments)
    return GateRead.of(
        asked.answer, service=service, service_id=asked.service_id, environment=asked.environment, at=asked.at
    )
