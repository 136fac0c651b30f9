"""The survey link in the caller's resolution mail, as pure rules: whether the link can be made
(the incident service's key is set), the link for an issued survey, and whose resolution mail
waits for one (the caller's: the survey's respondent is the incident's caller)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from services.notify.domain.recipients import Kind, Person, Recipient, people_for
from shared.events.incident import IncidentResolved
from shared.events.survey import SurveyIssued, survey_link_token

CALLER = Recipient(Kind.FIELD, "data.caller")
RESPONDENT = Recipient(Kind.FIELD, "data.respondent")


@dataclass(frozen=True)
class SurveyLinks:
    secret: bytes = b""
    page_url: str = "http://localhost:8001/survey"
    wait: timedelta = timedelta(minutes=2)

    @property
    def enabled(self) -> bool:
        return bool(self.secret)

    def link(self, survey: SurveyIssued) -> str:
        """The survey's page with its signed token (the same link the incident service makes)."""
        token = survey_link_token(survey.survey_id, survey.expires_at, self.secret)
        return f"{self.page_url.rstrip('/')}/{token}"


def waiting_caller(
    routing_key: str, data: Any, links: SurveyLinks, people: Sequence[Person], recipient_domain: str
) -> str | None:
    """The caller's address (lower-cased) whose mail about this event waits for a survey: only for
    `incident.resolved.v1`, and only when links can be made."""
    if not links.enabled or routing_key != IncidentResolved.routing_key:
        return None
    found = people_for(CALLER, data, people, recipient_domain)
    return found[0].lower() if found else None


def respondent_address(data: Any, people: Sequence[Person], recipient_domain: str) -> str | None:
    """The address of `survey.issued.v1`'s respondent (a user name or an address), lower-cased."""
    found = people_for(RESPONDENT, data, people, recipient_domain)
    return found[0].lower() if found else None
