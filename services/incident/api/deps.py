"""The incident service's route dependencies: its role sets, defined once, the settings, and the
typed load-or-404 loaders (`CurrentIncident`, `CurrentProblem`, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from services.incident.domain.catalogue import CatalogueItem
from services.incident.domain.incidents import Incident
from services.incident.domain.known_errors import KnownError
from services.incident.domain.problems import Problem
from services.incident.domain.requests import ServiceRequest
from services.incident.settings import IncidentSettings
from services.incident.store import catalogue, incident_queries, known_errors, problems, requests
from services.incident.usecases.incidents import Act
from services.incident.usecases.problems import ActOnProblem
from shared.app import ReadConnectionDep
from shared.auth import Principal, Role, require_roles
from shared.deps import IfMatch, found, optional_version

# ---------------------------------------------------------------------------- who may act

Reporter = Annotated[Principal, Depends(require_roles(Role.REQUESTER, Role.AGENT))]
"""Opens incidents."""
Worker = Annotated[Principal, Depends(require_roles(Role.AGENT))]
"""Works incidents and fulfils requests."""
Confirmer = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.REQUESTER))]
"""Closes (the caller confirms) and reopens incidents."""
Manager = Annotated[Principal, Depends(require_roles(Role.INCIDENT_MANAGER))]
"""Declares major incidents and records their review (and admin, who holds every role)."""
Lead = Annotated[Principal, Depends(require_roles(Role.INCIDENT_MANAGER, Role.AGENT))]
"""Escalates, posts major incident updates."""
Commenter = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.INCIDENT_MANAGER, Role.REQUESTER))]
"""Writes notes (a requester: comments only)."""
ProblemManager = Annotated[Principal, Depends(require_roles(Role.PROBLEM_MANAGER))]
"""Works problems and the known error database."""
Sender = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.MONITORING))]
"""Posts Alertmanager notifications."""
ServiceLevelManager = Annotated[Principal, Depends(require_roles(Role.SERVICE_LEVEL_MANAGER))]
"""Writes SLA calendars and policies."""
CatalogueManager = Annotated[Principal, Depends(require_roles(Role.SERVICE_LEVEL_MANAGER))]
"""Writes the request catalogue."""
Requester = Annotated[Principal, Depends(require_roles(Role.REQUESTER, Role.AGENT))]
"""Submits, closes and cancels service requests."""

STAFF_ROLES = frozenset(Role) - {Role.REQUESTER}
"""Who sees the internal side of an incident (work notes, the whole history on the timeline)."""


def _settings(request: Request) -> IncidentSettings:
    settings: IncidentSettings = request.app.state.settings
    return settings


Settings = Annotated[IncidentSettings, Depends(_settings)]


# ---------------------------------------------------------------------------- load-or-404


async def current_incident(incident_id: UUID, conn: ReadConnectionDep) -> Incident:
    return found(await incident_queries.get_incident(conn, incident_id), f"incident {incident_id}")


async def current_problem(problem_id: UUID, conn: ReadConnectionDep) -> Problem:
    return found(await problems.get_problem(conn, problem_id), f"problem {problem_id}")


async def current_known_error(known_error_id: UUID, conn: ReadConnectionDep) -> KnownError:
    return found(await known_errors.get_known_error(conn, known_error_id), f"known error {known_error_id}")


async def current_request(request_id: UUID, conn: ReadConnectionDep) -> ServiceRequest:
    return found(await requests.get_request(conn, request_id), f"request {request_id}")


async def current_catalogue_item(item_id: UUID, conn: ReadConnectionDep) -> tuple[CatalogueItem, datetime]:
    """The item and when it was last written."""
    return found(await catalogue.get_item(conn, item_id), f"catalogue item {item_id}")


CurrentIncident = Annotated[Incident, Depends(current_incident)]
CurrentProblem = Annotated[Problem, Depends(current_problem)]
CurrentKnownError = Annotated[KnownError, Depends(current_known_error)]
CurrentRequest = Annotated[ServiceRequest, Depends(current_request)]
CurrentCatalogueItem = Annotated[tuple[CatalogueItem, datetime], Depends(current_catalogue_item)]


# ---------------------------------------------------------------------------- who acts on which version


async def problem_action(problem_id: UUID, who: ProblemManager, if_match: IfMatch = None) -> ActOnProblem:
    """A problem manager's action on a problem, on the version If-Match names (if sent)."""
    return ActOnProblem(problem_id, who.subject, optional_version(if_match))


ProblemAction = Annotated[ActOnProblem, Depends(problem_action)]


async def worker_action(incident_id: UUID, who: Worker, if_match: IfMatch = None) -> Act:
    """An agent's action on an incident, on the version If-Match names (if sent)."""
    return Act(incident_id, who.subject, optional_version(if_match))


WorkerAction = Annotated[Act, Depends(worker_action)]
