"""Incident service settings (`INCIDENT_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


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
