"""Incident service settings (`INCIDENT_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from services.incident.domain.complaints import ComplaintTargets
from services.incident.domain.incident_lifecycle import IncidentPolicy
from services.incident.domain.outages import OutagePolicy
from services.incident.domain.priority import priority_matrix
from services.incident.domain.surveys import SurveyPolicy
from shared.settings import ServiceSettings

DEV_SURVEY_SECRET = "itsm-development-survey-secret-change-me"


class IncidentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INCIDENT_", extra="ignore")

    service_name: ClassVar[str] = "incident"
    default_port: ClassVar[int] = 8001

    sla_watch_interval_s: float = Field(default=30.0, gt=0, description="Seconds between SLA watcher passes")
    sla_watch_batch: int = Field(default=1000, ge=1, description="Clocks the SLA watcher claims per transaction")
    # Problem analysis (ISO/IEC 20000-1 8.2): at least `problem_recurrence_threshold` incidents on
    # one CI, or on one service with one category, within the window open (or join) a problem.
    problem_recurrence_threshold: int = Field(default=3, ge=2, le=1000)
    problem_recurrence_window_days: float = Field(default=7.0, gt=0, le=366)
    # An incident on a CI opened this long after a change on it was implemented (or failed) is
    # linked to that change as its probable cause.
    change_cause_window_hours: float = Field(default=24.0, gt=0, le=24 * 90)
    # Alertmanager intake: the label naming the CI, defaults for impact and urgency, and what an
    # alert on a CI inside the window of a change being implemented on it does.
    alert_ci_label: str = Field(default="ci_id", min_length=1, max_length=100)
    alert_default_impact: int = Field(default=2, ge=1, le=3)
    alert_default_urgency: int = Field(default=2, ge=1, le=3)
    alert_during_change: Literal["lower_priority", "annotate"] = "lower_priority"
    # Unplanned outages (ISO/IEC 20000-1 6.3): a priority 1 or major incident on a service that lasted
    # longer than the threshold (opened -> resolved) needs an investigation, a linked problem; when
    # nobody links one within the grace period after the resolution, the service opens it.
    outage_investigation_threshold_min: float = Field(default=60, gt=0, le=60 * 24 * 366)
    outage_investigation_grace_h: float = Field(default=24, ge=0, le=24 * 366)
    outage_investigation_owner: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Owner of the problems opened for outages when the incident has no assignment group",
    )
    outage_investigation_interval_s: float = Field(default=300, gt=0, description="How often the outage job runs")
    outage_investigation_batch: int = Field(default=100, ge=1, le=10_000, description="Outages per transaction")
    priority_matrix: list[list[int]] = Field(
        default=[[1, 2, 3], [2, 3, 4], [3, 4, 5]],
        description="Priority (1 critical .. 5 planning) by impact (rows 1-3) and urgency (columns 1-3), as JSON:"
        " INCIDENT_PRIORITY_MATRIX='[[1,2,3],[2,3,4],[3,4,5]]' (ITIL's usual matrix)",
    )
    reopen_window_days: float = Field(default=7, gt=0, description="A resolved incident may be reopened this long")
    auto_close_after_days: float = Field(
        default=5, gt=0, description="A resolved incident the caller has not confirmed closes after this long"
    )
    auto_close_interval_s: float = Field(default=300, gt=0, description="How often the auto-close job runs")
    auto_close_batch: int = Field(default=500, ge=1, le=10_000, description="Incidents closed per transaction")
    list_count_limit: int = Field(
        default=10_000,
        ge=1,
        description="The list counts matches up to this many (a lower bound with total_exact false beyond):"
        " an exact count of a large match costs far more than the page",
    )
    idempotency_ttl_hours: float = Field(default=24, gt=0, description="How long an Idempotency-Key is remembered")
    # Complaints (ISO/IEC 20000-1 7.1): how long after receipt a complaint is to be acknowledged,
    # and its outcome put to the complainant (wall-clock hours).
    complaint_acknowledge_hours: float = Field(default=24, gt=0, le=24 * 366)
    complaint_respond_hours: float = Field(default=24 * 10, gt=0, le=24 * 366)
    # Transactional surveys (7.1): the share of resolved tickets whose person is asked, at most one
    # survey per person within the throttle, how long the signed link lives, the score at or below
    # which a complaint is opened (0: never), and the secret the links are signed with.
    survey_sampling_rate: float = Field(default=1.0, ge=0, le=1)
    survey_throttle_days: float = Field(default=30, ge=0, le=366)
    survey_link_days: float = Field(default=14, gt=0, le=366)
    survey_low_score: int = Field(default=2, ge=0, le=4)
    survey_link_secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Signs the survey links; unset: a development secret outside prod, and no surveys in prod",
    )

    @field_validator("priority_matrix")
    @classmethod
    def _a_full_matrix(cls, rows: list[list[int]]) -> list[list[int]]:
        priority_matrix(rows)  # raises ValueError naming what is wrong
        return rows

    @model_validator(mode="after")
    def _complaint_targets_in_order(self) -> IncidentSettings:
        self.complaint_targets  # noqa: B018  (raises ValueError naming what is wrong)
        return self

    @property
    def survey_secret(self) -> bytes | None:
        """The key the survey links are signed with; None in prod without one set (no survey is
        issued and no link opens: a known key would let anyone forge them)."""
        if self.survey_link_secret is not None:
            return self.survey_link_secret.get_secret_value().encode()
        return None if self.environment == "prod" else DEV_SURVEY_SECRET.encode()

    @cached_property
    def survey_policy(self) -> SurveyPolicy:
        return SurveyPolicy(
            sampling_rate=self.survey_sampling_rate,
            throttle=timedelta(days=self.survey_throttle_days),
            lifetime=timedelta(days=self.survey_link_days),
            low_score=self.survey_low_score,
        )

    @cached_property
    def complaint_targets(self) -> ComplaintTargets:
        return ComplaintTargets(
            acknowledge=timedelta(hours=self.complaint_acknowledge_hours),
            respond=timedelta(hours=self.complaint_respond_hours),
        )

    @cached_property
    def policy(self) -> IncidentPolicy:
        return IncidentPolicy(
            priority_matrix=priority_matrix(self.priority_matrix),
            reopen_window=timedelta(days=self.reopen_window_days),
            auto_close_after=timedelta(days=self.auto_close_after_days),
        )

    @cached_property
    def outage_policy(self) -> OutagePolicy:
        return OutagePolicy(
            threshold=timedelta(minutes=self.outage_investigation_threshold_min),
            grace=timedelta(hours=self.outage_investigation_grace_h),
        )

    @property
    def idempotency_ttl(self) -> timedelta:
        return timedelta(hours=self.idempotency_ttl_hours)
