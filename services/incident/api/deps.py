"""The incident service's route dependencies: its authorisation table (who may call each route, on
whose records), the settings, and the typed load-or-404 loaders (`CurrentIncident`, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from services.incident.domain.catalogue import CatalogueItem
from services.incident.domain.complaints import Complaint
from services.incident.domain.incidents import Incident
from services.incident.domain.known_errors import KnownError
from services.incident.domain.problems import Problem
from services.incident.domain.requests import ServiceRequest
from services.incident.domain.survey_campaigns import Campaign
from services.incident.domain.surveys import Survey
from services.incident.settings import IncidentSettings
from services.incident.store import catalogue, complaints, incident_queries, known_errors, problems, requests, surveys
from services.incident.usecases.complaints import ActOnComplaint
from services.incident.usecases.incidents import Act
from services.incident.usecases.problems import ActOnProblem
from shared import records_control
from shared.app import ReadConnectionDep
from shared.auth import READ_ROLES, Principal, Role
from shared.authorization import Access, Ownership, Policy, Rule, row
from shared.deps import IfMatch, optional_version
from shared.errors import found

STAFF_ROLES = frozenset(Role) - {Role.REQUESTER}
"""Who sees the internal side of an incident (work notes, the whole history on the timeline)."""


# ---------------------------------------------------------------------------- the authorisation table

_R, _A, _M = Role.REQUESTER, Role.AGENT, Role.INCIDENT_MANAGER
_PM, _SLM = Role.PROBLEM_MANAGER, Role.SERVICE_LEVEL_MANAGER
_STAFF_READ = READ_ROLES - {_R}
_READ = row(allow=_STAFF_READ, own=[_R])
"""Every person's role reads; a requester only their own."""
_STAFF = row(allow=_STAFF_READ)
"""Records that are nobody's own (problems, known errors, alerts, SLA): staff read, a requester not."""
_WORK = row(allow=[_A])
_WORK_ASSIGNED = row(own=[_A])
"""An agent works what is assigned to them or their group (any agent may `assign` it to themselves)."""
_PROBLEMS = row(allow=[_PM])
_SERVICE_LEVELS = row(allow=[_SLM])
_COMPLAINTS = row(allow=[_A, _M])
"""Agents and incident managers handle complaints; the complainant raises, confirms and reopens."""

_EVIDENCE = row(allow=[Role.AUDITOR])
"""Evidence exports: the auditor and admin."""

TABLE: dict[str, dict[str, Rule]] = {
    "incidents.create_incident": row(allow=[_A], own=[_R]),  # a requester is the caller of what they raise
    "incidents.get_incident": _READ,
    "incidents.list_incidents": _READ,
    "incidents.assign": _WORK,
    "incidents.start": _WORK_ASSIGNED,
    "incidents.hold": _WORK_ASSIGNED,
    "incidents.resume": _WORK_ASSIGNED,
    "incidents.resolve": _WORK_ASSIGNED,
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
    "problems.trends": _STAFF,
    "problems.open_problem": _PROBLEMS,
    "problems.list_problems": _STAFF,
    "problems.get_problem": _STAFF,
    "problems.problem_history": _STAFF,
    "problems.problem_incidents": _STAFF,
    "problems.update_problem": _PROBLEMS,
    "problems.investigate": _PROBLEMS,
    "problems.publish_known_error": _PROBLEMS,
    "problems.link_change": _PROBLEMS,
    "problems.link_incidents": _PROBLEMS,
    "problems.resolve": _PROBLEMS,
    "problems.reopen": _PROBLEMS,
    "problems.close": _PROBLEMS,
    "problems.cancel": _PROBLEMS,
    "problems.change_links": _READ,
    "known_errors.search_known_errors": _STAFF,
    "known_errors.record_known_error": _PROBLEMS,
    "known_errors.get_known_error": _STAFF,
    "known_errors.retire_known_error": _PROBLEMS,
    # Alertmanager posts with a monitoring service token (which reads nothing); an agent may post too.
    "alerts.alertmanager_webhook": row(allow=[Role.MONITORING, _A]),
    "alerts.list_alerts": _STAFF,
    "sla.create_calendar": _SERVICE_LEVELS,
    "sla.list_calendars": _STAFF,
    "sla.get_calendar": _STAFF,
    "sla.replace_calendar": _SERVICE_LEVELS,
    "sla.delete_calendar": _SERVICE_LEVELS,
    "sla.create_policy": _SERVICE_LEVELS,
    "sla.list_policies": _STAFF,
    "sla.get_policy": _STAFF,
    "sla.replace_policy": _SERVICE_LEVELS,
    "sla.delete_policy": _SERVICE_LEVELS,
    "sla.incident_clocks": _READ,
    # The catalogue is what a requester submits requests from: every person reads it.
    "catalogue.create_item": _SERVICE_LEVELS,
    "catalogue.list_items": row(allow=READ_ROLES),
    "catalogue.get_item": row(allow=READ_ROLES),
    "catalogue.replace_item": _SERVICE_LEVELS,
    "catalogue.delete_item": _SERVICE_LEVELS,
    "requests.submit_request": row(allow=[_A, _R]),  # the submitter is always the requester
    "requests.get_request": _READ,
    "requests.list_requests": _READ,
    # Whoever holds the item's approver role approves, any role of the identity provider: the use
    # case checks it (and that nobody approves their own request).
    "requests.approve": row(allow=frozenset(Role) - {_R}, own=[_R], others=Rule.ALLOW),
    "requests.reject": row(allow=frozenset(Role) - {_R}, own=[_R], others=Rule.ALLOW),
    "requests.start": _WORK_ASSIGNED,
    "requests.fulfil": _WORK_ASSIGNED,
    "requests.close": row(allow=[_A], own=[_R]),
    "requests.cancel": row(allow=[_A], own=[_R]),
    "requests.history": _READ,
    "requests.request_clocks": _READ,
    "complaints.receive_complaint": row(allow=[_A, _M], own=[_R]),  # a requester is the complainant
    "complaints.list_complaints": _READ,
    "complaints.get_complaint": _READ,
    "complaints.complaint_history": _READ,
    "complaints.update_complaint": _COMPLAINTS,
    "complaints.link_records": _COMPLAINTS,
    "complaints.acknowledge": _COMPLAINTS,
    "complaints.investigate": _COMPLAINTS,
    "complaints.take_action": _COMPLAINTS,
    "complaints.resolve": _COMPLAINTS,
    "complaints.confirm": row(allow=[_A, _M], own=[_R]),
    "complaints.close": _COMPLAINTS,
    "complaints.escalate": _COMPLAINTS,
    "complaints.reopen": row(allow=[_A, _M], own=[_R]),
    # Staff read every survey; a requester the ones they were sent (with their link).
    "surveys.list_surveys": _READ,
    "surveys.get_survey": _READ,
    "surveys.launch_campaign": row(allow=[_M, _SLM]),
    "surveys.list_campaigns": _STAFF,
    "surveys.get_campaign": _STAFF,
    # Evidence export (4.3.3): the whole record, internal notes included, for the auditor's read-only
    # token (and admin); a requester's view of their own incident is its get, history and timeline.
    "evidence.incident_evidence": _EVIDENCE,
    "evidence.incidents_evidence": _EVIDENCE,
    "evidence.problem_evidence": _EVIDENCE,
    "evidence.request_evidence": _EVIDENCE,
    "evidence.complaint_evidence": _EVIDENCE,
    # Records control (4.3.3): admin sets retention policies and legal holds; the auditor reads them
    # and the disposal log.
    **records_control.AUTHORISATION,
}

PUBLIC = frozenset({"surveys.survey_page", "surveys.answer_survey"})
"""The survey answer page takes no token: its signed, single-use link is the credential
(`api/surveys.py`); a refusal says nothing of the survey (a link not valid is one 404)."""


def _assigned_to(group: str | None, assignee: str | None, who: Principal) -> bool:
    if group is None and assignee is None:  # nobody's yet: the service desk's queue, any agent's
        return Role.AGENT in who.roles
    return assignee == who.subject or (group is not None and group in who.groups)


def _incident_is_theirs(incident: Incident, who: Principal) -> bool:
    """the principal (the token's subject) is the incident's caller (a requester: what they raised),
    its assignee, or a member of its assignment group (the token's `groups` claim); an incident
    assigned to nobody yet is in the service desk's queue, any agent's (first-contact resolution).
    So an agent starts, holds, resumes and resolves what is unassigned or assigned to them or their
    group, and takes any other incident by assigning it to themselves (recorded in its history)."""
    return incident.caller == who.subject or _assigned_to(incident.assignment_group, incident.assignee, who)


def _request_is_theirs(request: ServiceRequest, who: Principal) -> bool:
    """the principal (the token's subject) is the request's requester, its assignee (once it has
    one), or a member of its fulfilment group (the token's `groups` claim); one with neither is any
    agent's. So an agent starts and fulfils the requests of their group and those assigned to them."""
    return request.requester == who.subject or _assigned_to(request.assignment_group, request.assignee, who)


def _complaint_is_theirs(complaint: Complaint, who: Principal) -> bool:
    """the principal (the token's subject) is the complaint's complainant."""
    return complaint.complainant == who.subject


def _survey_is_theirs(survey: Survey, who: Principal) -> bool:
    """the principal (the token's subject) is the survey's respondent."""
    return survey.respondent == who.subject


INCIDENTS = Ownership("incident_id", "incident", incident_queries.get_incident, _incident_is_theirs)
REQUESTS = Ownership("request_id", "request", requests.get_request, _request_is_theirs)
COMPLAINTS = Ownership("complaint_id", "complaint", complaints.get_complaint, _complaint_is_theirs)
SURVEYS = Ownership("survey_id", "survey", surveys.get_survey, _survey_is_theirs)
POLICY = Policy("incident", TABLE, [INCIDENTS, REQUESTS, COMPLAINTS, SURVEYS], public=PUBLIC)
Authorised = Annotated[Access, Depends(POLICY.enforce)]
"""What the table grants the caller on this route (routers install `POLICY.enforce` first)."""
Caller = Annotated[Principal, Depends(POLICY.caller)]
"""Who the table let through (for routes that need to know who acts)."""


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


async def current_complaint(complaint_id: UUID, conn: ReadConnectionDep) -> Complaint:
    return found(await complaints.get_complaint(conn, complaint_id), f"complaint {complaint_id}")


CurrentComplaint = Annotated[Complaint, Depends(current_complaint)]


async def current_survey(survey_id: UUID, conn: ReadConnectionDep) -> Survey:
    return found(await surveys.get_survey(conn, survey_id), f"survey {survey_id}")


CurrentSurvey = Annotated[Survey, Depends(current_survey)]


async def current_campaign(campaign_id: UUID, conn: ReadConnectionDep) -> Campaign:
    return found(await surveys.get_campaign(conn, campaign_id), f"survey campaign {campaign_id}")


CurrentCampaign = Annotated[Campaign, Depends(current_campaign)]


# ---------------------------------------------------------------------------- who acts on which version


async def problem_action(problem_id: UUID, who: Caller, if_match: IfMatch = None) -> ActOnProblem:
    """An action on a problem, on the version If-Match names (if sent)."""
    return ActOnProblem(problem_id, who.subject, optional_version(if_match))


ProblemAction = Annotated[ActOnProblem, Depends(problem_action)]


async def incident_action(incident_id: UUID, who: Caller, if_match: IfMatch = None) -> Act:
    """An action on an incident, on the version If-Match names (if sent)."""
    return Act(incident_id, who.subject, optional_version(if_match))


IncidentAction = Annotated[Act, Depends(incident_action)]


async def complaint_action(complaint_id: UUID, who: Caller, if_match: IfMatch = None) -> ActOnComplaint:
    """An action on a complaint, on the version If-Match names (if sent)."""
    return ActOnComplaint(complaint_id, who.subject, optional_version(if_match))


ComplaintAction = Annotated[ActOnComplaint, Depends(complaint_action)]
