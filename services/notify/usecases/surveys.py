"""The survey link in the caller's resolution mail.

The incident service issues a satisfaction survey after it consumed `incident.resolved.v1`, so the
survey comes after the resolution: notify holds the caller's resolution message for
`NOTIFY_MAIL_SURVEY_WAIT_S` (only when it has the survey link key; see `notifications.on_event`),
and when `survey.issued.v1` for that incident comes, renders the message again with the survey's
link and lets it go (at once, or at the end of quiet hours; a digest keeps its time). A ticket
not sampled gets its mail without a link when the wait ends.

The link is a single-use credential, so it is never in an event: notify signs it itself from the
event's `survey_id` and `expires_at` with the incident service's key (`survey_link_token`, the
survey contract's format), and the incident service's page verifies it as its own."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from services.notify.domain.notifications import MessageStatus
from services.notify.domain.preferences import preferences_of, send_at
from services.notify.domain.surveys import respondent_address
from services.notify.store import directory, event_log, mail
from services.notify.store import notifications as store
from services.notify.usecases.notifications import MailConfig, desk_of
from shared.errors import RuleViolation
from shared.events import CloudEvent
from shared.events.incident import IncidentResolved
from shared.events.survey import SurveyIssued
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


async def on_survey_issued(event: CloudEvent, uow: UnitOfWork, config: MailConfig, now: datetime) -> int:
    """Put the survey's link into the respondent's pending resolution mail about that incident and
    make it due; returns how many messages got it."""
    if not config.survey.enabled or event.routing_key != SurveyIssued.routing_key:
        return 0
    survey = SurveyIssued.model_validate(event.data)
    if survey.ticket_kind != "incident":
        return 0
    conn = uow.connection
    waiting = await store.pending_about(conn, str(survey.ticket_id), IncidentResolved.event_type())
    people = await directory.everyone(conn) if waiting else []
    respondent = respondent_address(event.data, people, config.recipient_domain)
    person = next((p for p in people if p.address.lower() == respondent), None)
    link = config.survey.link(survey)
    updated = 0
    for message in (m for m in waiting if m.recipient.lower() == respondent):
        rule = await store.get_rule(conn, message.rule_id)
        locale = person.locale if person else config.locale
        parts = await _rendered_with(conn, message, rule, link, locale, desk_of(config, message).name)
        if rule is None or parts is None:
            continue
        values: dict[str, Any] = {"subject": parts.subject, "text_body": parts.text, "html_body": parts.html}
        if not message.digest:  # waits no longer: due now, or when quiet hours end
            prefs = preferences_of(person) if person else None
            values["next_attempt_at"] = send_at(now, prefs, mandatory=rule.mandatory)[0]
        await store.update_message(conn, message.id, values)
        updated += 1
    if waiting and not updated:
        log.info("survey %s: no pending resolution mail to %s to carry its link", survey.number, respondent)
    return updated


async def _rendered_with(conn: Any, message: Any, rule: Any, link: str, locale: str, desk: str) -> mail.Rendered | None:
    kept = await event_log.get_event(conn, message.event_id)
    if kept is None or rule is None or message.status != MessageStatus.PENDING.value:
        return None
    resolved = CloudEvent.model_validate_json(kept.body)
    context = {
        "data": {**resolved.data, "survey_url": link},
        "event": {"type": resolved.type, "subject": resolved.subject, "time": resolved.time},
        "desk": desk,
    }
    try:
        return mail.render(rule.template, locale, context)
    except RuleViolation as exc:  # the message goes without the link when its wait ends
        log.error("rule %r: template %r failed with the survey link: %s", rule.name, rule.template, exc.detail)
        return None
