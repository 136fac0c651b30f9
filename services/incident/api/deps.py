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
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.authorization import Access, Ownership, Policy, Rule, row
from shared.deps import IfMatch, optional_version
from shared.errors import found

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


# ---------------------------------------------------------------------------- the authorisation table

_R, _A, _M = Role.REQUESTER, Role.AGENT, Role.INCIDENT_MANAGER
_STAFF_READ = READ_ROLES - {_R}
_READ = row(allow=_STAFF_READ, own=[_R])
"""Every person's role reads; a requester only their own."""
_WORK = row(allow=[_A])

TABLE: dict[str, dict[str, Rule]] = {
    "incidents.create_incident": row(allow=[_A], own=[_R]),  # a requester is the caller of what they raise
    "incidents.get_incident": _READ,
    "incidents.list_incidents": _READ,
    "incidents.assign": _WORK,
    "incidents.start": _WORK,
    "incidents.hold": _WORK,
    "incidents.resume": _WORK,
    "incidents.resolve": _WORK,
    "incidents.close": row(allow=[_A], own=[_R]),
    "incidents.reopen": row(allow=[_A], own=[_R]),
    "incidents.cancel": _WORK,
    "incidents.history": _READ,
    "incidents.update_incident": _WORK,
    "incidents.override_priority": _WORK,
    "incidents.escalate": row(allow=[_A, _M]),
    "incidents.declare_major": row(allow=[_M]),
    "incidents.post_major_update": row(allow=[_A, _M]),
    "incidents.record_review": row(allow=[_M]),
    "incidents.get_review": _READ,
    "incidents.add_note": row(allow=[_A, _M], own=[_R]),
    "incidents.timeline": _READ,
    "problems.change_links": _READ,
    "sla.incident_clocks": _READ,
    "requests.submit_request": row(allow=[_A, _R]),  # the submitter is always the requester
    "requests.get_request": _READ,
    "requests.list_requests": _READ,
    # Whoever holds the item's approver role approves, any role of the identity provider: the use
    # case checks it (and that nobody approves their own request).
    "requests.approve": row(allow=frozenset(Role) - {_R}, own=[_R], others=Rule.ALLOW),
    "requests.reject": row(allow=frozenset(Role) - {_R}, own=[_R], others=Rule.ALLOW),
    "requests.start": _WORK,
    "requests.fulfil": _WORK,
    "requests.close": row(allow=[_A], own=[_R]),
    "requests.cancel": row(allow=[_A], own=[_R]),
    "requests.history": _READ,
    "requests.request_clocks": _READ,
}


def _caller_is(incident: Incident, who: Principal) -> bool:
    """the incident's caller is the principal (the token's subject)."""
    return incident.caller == who.subject


def _requester_is(request: ServiceRequest, who: Principal) -> bool:
    """the request's requester is the principal (the token's subject)."""
    return request.requester == who.subject


INCIDENTS = Ownership("incident_id", "incident", incident_queries.get_incident, _caller_is)
REQUESTS = Ownership("request_id", "request", requests.get_request, _requester_is)
POLICY = Policy("incident", TABLE, [INCIDENTS, REQUESTS])
Authorised = Annotated[Access, Depends(POLICY.enforce)]
"""What the table grants the caller on this route (routers install `POLICY.enforce` first)."""


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
