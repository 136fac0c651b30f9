"""HTTP bodies of the alert intake: the Alertmanager webhook as it is sent, and what was done."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.http import ApiModel, Page


class _Webhook(BaseModel):
    # Alertmanager's payload as sent: fields it may add later are ignored, the ones used are checked.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class AlertmanagerAlert(_Webhook):
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(max_length=100)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=100)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL", max_length=2000)
    fingerprint: str = Field(default="", max_length=100)


class AlertmanagerWebhook(_Webhook):
    """Alertmanager's webhook body, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config)."""

    version: str = Field(max_length=10)
    group_key: str = Field(default="", alias="groupKey", max_length=10_000)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)
    status: Literal["firing", "resolved"]
    receiver: str = Field(default="", max_length=200)
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL", max_length=2000)
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _version_4(self) -> AlertmanagerWebhook:
        if self.version != "4":
            raise ValueError(f"webhook payload version {self.version!r} is not supported (4 is)")
        return self


class AlertOutcomeRead(ApiModel):
    fingerprint: str
    status: Literal["firing", "resolved"]
    action: Literal["opened", "updated", "resolved", "noted", "ignored"]
    incident_id: UUID | None
    incident_number: str | None
    occurrences: int
    change_number: str | None = Field(description="The change being implemented on the CI when it fired")


class AlertIntakeRead(ApiModel):
    receiver: str
    results: list[AlertOutcomeRead]


class AlertRead(ApiModel):
    id: UUID
    fingerprint: str
    incident_id: UUID
    alertname: str
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str
    occurrences: int = Field(description="Firing notifications received for this alert while its incident was open")
    first_seen_at: datetime
    last_seen_at: datetime
    change_id: UUID | None
    change_number: str | None
    receiver: str


AlertPage = Page[AlertRead]
