"""Notify service settings (`NOTIFY_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    service_name: ClassVar[str] = "notify"
    default_port: ClassVar[int] = 8006

    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Allow webhook targets whose host resolves to a private, loopback or link-local address",
    )
    webhook_delivery_interval_s: float = Field(default=1.0, gt=0, description="Seconds between delivery passes")
    webhook_max_per_pass: int = Field(default=200, ge=1, le=10_000, description="Deliveries one pass sends at most")
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120, description="Seconds a receiver has to answer")
    webhook_retry_first_s: float = Field(default=5.0, gt=0, description="Delay before the first retry")
    webhook_retry_max_s: float = Field(default=3600.0, gt=0, description="Longest delay between two retries")
    webhook_retry_period_s: float = Field(
        default=3 * 24 * 3600.0,
        gt=0,
        description="How long after its first attempt a delivery is retried; then its subscription is disabled",
    )
    webhook_secret_overlap_s: float = Field(
        default=24 * 3600.0, ge=0, description="How long a rotated-out secret still signs deliveries"
    )
    webhook_response_excerpt_chars: int = Field(
        default=500, ge=0, le=10_000, description="Characters of a receiver's answer kept in the delivery log"
    )
    event_retention_days: float = Field(
        default=30.0,
        gt=0,
        description="Days a consumed event is kept for replays (one still waiting to be delivered is kept longer)",
    )
    event_purge_interval_s: float = Field(default=3600.0, gt=0, description="Seconds between purges of old events")
    webhook_replay_max_events: int = Field(
        default=1000, ge=1, le=100_000, description="Events one replay request may queue at most"
    )

    mail_smtp_host: str = Field(default="", max_length=255, description="SMTP server; empty: no e-mail is sent")
    mail_smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port (587 for submission)")
    mail_smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS (required then)")
    mail_smtp_username: str = Field(default="", max_length=255, description="SMTP AUTH user; empty: no AUTH")
    mail_smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP AUTH password")
    mail_timeout_s: float = Field(default=30.0, gt=0, le=300, description="Seconds the SMTP server has to answer")
    mail_from: str = Field(
        default="Service Desk <servicedesk@localhost>", max_length=320, description="The From of the desk's e-mail"
    )
    mail_reply_to: str = Field(default="", max_length=320, description="The Reply-To of the desk's e-mail (optional)")
    mail_recipient_domain: str = Field(
        default="",
        max_length=253,
        description="Domain added to a recipient field that holds a user name, not an address (ada -> ada@DOMAIN)",
    )
    mail_locale: str = Field(default="en", pattern=r"^[a-z]{2}(_[A-Z]{2})?$", description="Templates' locale folder")
    mail_delivery_interval_s: float = Field(default=1.0, gt=0, description="Seconds between e-mail delivery passes")
    mail_max_per_pass: int = Field(default=100, ge=1, le=10_000, description="Messages one pass sends at most")
    mail_retry_first_s: float = Field(default=60.0, gt=0, description="Delay before a message's first retry")
    mail_retry_max_s: float = Field(default=3600.0, gt=0, description="Longest delay between two retries")
    public_url: str = Field(
        default="http://localhost:8006",
        max_length=500,
        pattern=r"^https?://",
        description="Where people reach this service: the base of the unsubscribe links in mail",
    )
    unsubscribe_secret: SecretStr = Field(
        default=SecretStr(""), description="Key of the unsubscribe links' signature (empty: the JWT secret)"
    )
    mail_retry_period_s: float = Field(
        default=2 * 24 * 3600.0, gt=0, description="How long after its first attempt a message is retried"
    )
