"""What the incident service consumes, and its scheduled jobs. Its queue is bound to exactly the
keys of HANDLERS.

Consumed: config's CI events into the local CI read model (`store.tables.ci_read_model`); the service's
own `incident.created.v1` for problem analysis, and its `incident.resolved.v1` and
`request.fulfilled.v1` for satisfaction surveys, taken from RabbitMQ like any other consumer (never
a direct call from the incident code); config's capacity threshold crossings, taken in as alerts
(a critical breach opens an incident on its CI); and the change service's events: every change is learnt (a
problem or incident is linked only to a known change), its implementation events mark change-caused
incidents and alerts raised during a change; and notify's e-mail intake (`mail.received.v1`): a
message to the desk opens an incident (or a request) or becomes a customer comment on one.

Scheduled: the SLA watcher, auto-close of resolved incidents, the investigation (a problem) of
unplanned outages over the threshold that nobody linked a problem to, the disposal of incidents,
requests and complaints past their retention period (never one under legal hold), and the purge of expired
Idempotency-Keys."""

from __future__ import annotations

from collections.abc import Mapping

from services.incident.settings import IncidentSettings
from services.incident.store.incidents import idempotency
from services.incident.store.records_control import DISPOSABLES
from services.incident.store.tables import ci_read_model, retention
from services.incident.usecases import (
    agreements,
    alerts,
    analysis,
    incidents,
    mail_intake,
    outages,
    sla,
    sla_watcher,
    surveys,
)
from shared.events.agreement import AgreementAgreed, AgreementRetired, AgreementSuperseded
from shared.events.change import (
    ChangeApproved,
    ChangeAssessed,
    ChangeCancelled,
    ChangeClosed,
    ChangeCreated,
    ChangeFailed,
    ChangeImplemented,
    ChangeImplementing,
    ChangeRejected,
    ChangeReviewed,
    ChangeScheduled,
    ChangeSubmitted,
)
from shared.events.config import CapacityThresholdBreached, CapacityThresholdCleared
from shared.events.incident import IncidentCreated, IncidentResolved, RequestFulfilled
from shared.events.notify import MailReceived
from shared.messaging import Handler, data_handlers
from shared.periodic import JobContext, PeriodicJob
from shared.retention_store import disposal_job

HANDLERS: Mapping[str, Handler] = {
    **ci_read_model.handlers,
    **data_handlers(
        (IncidentCreated, analysis.on_incident_created),
        # A resolved ticket's person may be sent a satisfaction survey (sampled, throttled).
        (IncidentResolved, surveys.on_incident_resolved),
        (RequestFulfilled, surveys.on_request_fulfilled),
        (ChangeImplementing, analysis.on_change_implementing),
        (ChangeImplemented, analysis.on_change_done),
        (ChangeFailed, analysis.on_change_done),
        # Every other change event teaches the service the change (links are checked against it).
        *((e, analysis.on_change_learnt) for e in (ChangeCreated, ChangeSubmitted, ChangeAssessed, ChangeApproved)),
        *((e, analysis.on_change_learnt) for e in (ChangeRejected, ChangeScheduled, ChangeReviewed, ChangeClosed)),
        (ChangeCancelled, analysis.on_change_learnt),
        # Config's capacity job: a critical breach opens an incident on its CI, its clearing resolves it.
        (CapacityThresholdBreached, alerts.on_capacity_crossing),
        (CapacityThresholdCleared, alerts.on_capacity_crossing),
        # Config's agreements: a customer's agreed SLA sets the policies of their incidents.
        (AgreementAgreed, agreements.on_agreement_agreed),
        (AgreementSuperseded, agreements.on_agreement_superseded),
        (AgreementRetired, agreements.on_agreement_retired),
        # Notify's e-mail intake: a message to the desk opens an incident or comments on one.
        (MailReceived, mail_intake.on_mail_received),
    ),
}


async def auto_close(ctx: JobContext) -> None:
    """Close incidents resolved for `auto_close_after_days` without confirmation, batch by batch."""
    settings: IncidentSettings = ctx.settings
    while True:
        closed = await incidents.close_resolved_incidents(
            ctx.unit_of_work(), settings.policy, ctx.now, batch=settings.auto_close_batch
        )
        if closed < settings.auto_close_batch:
            return


async def purge_idempotency_keys(ctx: JobContext) -> None:
    async with ctx.engine.begin() as conn:
        await idempotency.purge_expired(conn, ctx.now)


PERIODIC: tuple[PeriodicJob, ...] = (
    PeriodicJob(sla.WATCHER, sla_watcher.watch, lambda s: s.sla_watch_interval_s),
    PeriodicJob("auto-close", auto_close, lambda s: s.auto_close_interval_s),
    # Unplanned outages over the threshold nobody investigated get a problem (ISO/IEC 20000-1 6.3).
    PeriodicJob(outages.JOB, outages.investigate, lambda s: s.outage_investigation_interval_s),
    PeriodicJob("idempotency-purge", purge_idempotency_keys, lambda s: 3600.0),
    # Incidents, requests and complaints past their retention period (ISO/IEC 20000-1 4.3.3).
    disposal_job(retention, DISPOSABLES),
)
