"""The gate's use case: may a pipeline deploy this service to this environment now."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain.deployments import Environment, environment_named
from services.change.domain.gate import GateAnswer, gate
from services.change.domain.templates import template_for
from services.change.store import gate as store
from services.change.store.templates import list_templates
from shared import clock


def _as_uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class GateQuestion:
    """What the gate answers: may `service` be deployed to `environment` now, and why."""

    answer: GateAnswer
    service_id: UUID | None
    environment: Environment
    at: datetime


async def ask_gate(conn: AsyncConnection, *, service: str, environment: str, gated: Iterable[str]) -> GateQuestion:
    """The gate's answer now for a service named by id or by the name its pipeline uses (resolved to
    an id through the templates that list that name), in an environment named as pipelines do."""
    env = environment_named(environment)
    now = clock.now()
    answer, service_id = await _gate_answer(conn, service=service, environment=env, gated=gated, now=now)
    return GateQuestion(answer, service_id, env, now)


async def _gate_answer(
    conn: AsyncConnection, *, service: str, environment: Environment, gated: Iterable[str], now: datetime
) -> tuple[GateAnswer, UUID | None]:
    templates = await list_templates(conn, active=True)
    service_id = _as_uuid(service)
    service_name = None if service_id else service
    if service_id is None:
        named = template_for(templates, service_id=None, service_name=service_name)
        if named is not None and not named.pipeline_default:
            service_id = named.service_id
    changes = await store.open_changes_for(conn, service_id, now) if service_id else []
    answer = gate(
        service_id=service_id,
        service_name=service_name,
        environment=environment,
        gated=environment.value in set(gated),
        now=now,
        changes=changes,
        templates=templates,
        blackouts=await store.blackouts_at(conn, now),
    )
    return answer, service_id
