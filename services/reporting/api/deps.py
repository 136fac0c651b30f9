"""Reporting's route dependencies: its authorisation table (who may call each route) and the small
input rules its routes share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends

from services.reporting.domain.audits import InternalAudit
from services.reporting.store.audits import get_audit
from shared.auth import READ_ROLES, Principal, Role
from shared.authorization import Access, Ownership, Policy, Rule, row
from shared.http import expected_version

# ---------------------------------------------------------------------------- the authorisation table

_STAFF_READ = row(allow=READ_ROLES - {Role.REQUESTER})
"""What reporting holds is everybody's records (the event log carries every event's data, a report
counts every incident): staff read it; a requester sees only their own records, in the services
that hold them; the machine tokens read nothing."""
_SERVICE_LEVEL_MANAGER = row(allow=[Role.SERVICE_LEVEL_MANAGER])
"""Service reporting is part of service level management: the service level manager (or an admin)
records agreements, findings and actions."""
_CONDUCT_AUDIT = row(allow=[Role.SERVICE_LEVEL_MANAGER], own=[Role.AUDITOR])
"""An internal audit is conducted by its lead auditor (4.5.4.2: auditors chosen for objectivity,
never among the auditees): a person with the auditor role, read-only everywhere else, moves the
audits they lead and records their findings; the service level manager plans the programme and
the audits and may act on any."""

TABLE: dict[str, dict[str, Rule]] = {
    "event_log.list_events": _STAFF_READ,
    "reports.incident_summary": _STAFF_READ,
    # The definitions (name, purpose, audience, columns) hold no record: every person's role reads them.
    "reports.list_reports": row(allow=READ_ROLES),
    "reports.get_report": _STAFF_READ,
    "projections.rebuild_projections": row(),  # admin only: it empties and replays every fact table
    "agreements.list_agreements": _STAFF_READ,
    "agreements.get_agreement": _STAFF_READ,
    "agreements.list_agreement_versions": _STAFF_READ,
    "agreements.get_agreement_version": _STAFF_READ,
    "agreements.propose_agreement": _SERVICE_LEVEL_MANAGER,
    "agreements.agree_agreement": _SERVICE_LEVEL_MANAGER,
    "agreements.retire_agreement": _SERVICE_LEVEL_MANAGER,
    "runs.list_report_runs": _STAFF_READ,
    "runs.get_report_run": _STAFF_READ,
    "runs.download_report_run": _STAFF_READ,
    "runs.list_findings": _STAFF_READ,
    "runs.add_finding": _SERVICE_LEVEL_MANAGER,
    "distribution.get_distribution": _STAFF_READ,
    # Service reviews (8.3.3): the service level manager records them; staff read them.
    "service_reviews.record_service_review": _SERVICE_LEVEL_MANAGER,
    "service_reviews.list_service_reviews": _STAFF_READ,
    "service_reviews.get_service_review": _STAFF_READ,
    "service_reviews.move_service_review_action": _SERVICE_LEVEL_MANAGER,
    "service_reviews.link_service_review_change": _SERVICE_LEVEL_MANAGER,
    # The improvement register (4.5.5): the service level manager keeps it (entries raised by hand,
    # their lifecycle and measured benefit, the intake policy); staff read it.
    "improvements.raise_improvement": _SERVICE_LEVEL_MANAGER,
    "improvements.list_improvements": _STAFF_READ,
    "improvements.get_improvement": _STAFF_READ,
    "improvements.update_improvement": _SERVICE_LEVEL_MANAGER,
    "improvements.act_on_improvement": _SERVICE_LEVEL_MANAGER,
    "improvements.get_improvement_policy": _STAFF_READ,
    "improvements.set_improvement_policy": _SERVICE_LEVEL_MANAGER,
    # Internal audits (4.5.4.2) and management reviews (4.5.4.3): the service level manager, who
    # owns the management system's records here, plans and records them; an audit's lead auditor
    # (the auditor role) conducts it; staff read them.
    "audits.plan_audit_programme": _SERVICE_LEVEL_MANAGER,
    "audits.list_audit_programmes": _STAFF_READ,
    "audits.get_audit_programme": _STAFF_READ,
    "audits.plan_audit": _SERVICE_LEVEL_MANAGER,
    "audits.list_audits": _STAFF_READ,
    "audits.get_internal_audit": _STAFF_READ,
    "audits.act_on_audit": _CONDUCT_AUDIT,
    "audits.add_audit_finding": _CONDUCT_AUDIT,
    "audits.move_corrective_action": _SERVICE_LEVEL_MANAGER,
    "audits.raise_finding_improvement": _SERVICE_LEVEL_MANAGER,
    "management_reviews.record_management_review": _SERVICE_LEVEL_MANAGER,
    "management_reviews.list_management_reviews": _STAFF_READ,
    "management_reviews.get_management_review": _STAFF_READ,
    "management_reviews.move_management_review_action": _SERVICE_LEVEL_MANAGER,
    # Names the subject of every event recorded; one token subject holds at most
    # REPORTING_STREAM_MAX_PER_SUBJECT streams (the route's own cap).
    "dashboard.stream": _STAFF_READ,
}


def _leads(audit: InternalAudit, who: Principal) -> bool:
    return audit.lead_auditor == who.subject


AUDITS = Ownership("audit_id", "audit", get_audit, _leads)
"""An audit is its lead auditor's own (`_CONDUCT_AUDIT`)."""

POLICY = Policy(
    "reporting",
    TABLE,
    [AUDITS],
    # The dashboard page is static: what it shows comes from the API with the caller's token.
    public=frozenset({"dashboard.dashboard_page"}),
)
"""An audit is the only reporting record that is someone's own (its lead auditor's); every other
cell is allow or deny."""
Authorised = Annotated[Access, Depends(POLICY.enforce)]
Caller = Annotated[Principal, Depends(POLICY.caller)]
"""Who the table let through (routers install `POLICY.enforce` first)."""

Format = Literal["json", "csv"]


def utc(moment: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def sent_version(if_match: str | None) -> int | None:
    """The version an agreement change is based on; None when If-Match was not sent. Unlike
    `shared.deps.optional_version`, an empty If-Match is checked (412), not taken as absent."""
    return None if if_match is None else expected_version(if_match)
