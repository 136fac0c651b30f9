"""What the change service's events set in the fact tables: changes, the services they name, and
deployments (no I/O)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.reporting.domain.facts import CHANGE_SERVICES, CHANGES, DEPLOYMENTS, FactTable
from shared.events.change import ChangeCreated, ChangeFailed, ChangeImplemented, ChangeStatusEvent, DeploymentRecorded


def _change_services(change_id: UUID, service_ids: list[UUID]) -> list[tuple[FactTable, dict[str, Any]]]:
    return [(CHANGE_SERVICES, {"change_id": change_id, "service_id": s}) for s in service_ids]


def change_created(data: ChangeCreated) -> list[tuple[FactTable, dict[str, Any]]]:
    values = {
        "change_id": data.change_id,
        "number": data.number,
        "type": data.type,
        "status": data.status,
        "created_at": data.created_at,
    }
    return [(CHANGES, values)]


def change_implemented(data: ChangeImplemented) -> list[tuple[FactTable, dict[str, Any]]]:
    values = {
        "change_id": data.change_id,
        "number": data.number,
        "type": data.type,
        "status": "implemented",
        "created_at": data.created_at,
        "implemented_at": data.implemented_at,
    }
    return [(CHANGES, values), *_change_services(data.change_id, data.service_ids)]


def change_status(data: ChangeStatusEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "change_id": data.change_id,
        "number": data.number,
        "type": data.type,
        "status": data.status,
        "created_at": data.created_at,
    }
    if isinstance(data, ChangeFailed):
        values["failed_at"] = data.occurred_at
        values["backed_out"] = data.backed_out or None
    if data.status == "closed":
        values["closed_at"] = data.occurred_at
    return [(CHANGES, values), *_change_services(data.change_id, data.service_ids)]


def deployment(data: DeploymentRecorded) -> list[tuple[FactTable, dict[str, Any]]]:
    finished = data.finished_at
    if finished is None and data.result != "in_progress":
        finished = data.recorded_at
    return [
        (
            DEPLOYMENTS,
            {
                "deployment_id": data.deployment_id,
                "service_id": data.service_id,
                "service": data.service,
                "environment": data.environment,
                "result": data.result,
                "change_id": data.change_id,
                "release_id": data.release_id,
                "started_at": data.started_at,
                "finished_at": finished,
                "recorded_at": data.recorded_at,
            },
        )
    ]
