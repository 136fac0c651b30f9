"""Notify service settings (`NOTIFY_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar, Literal
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from services.notify.domain.desks import MAX_DESKS, MAX_ENTRIES, MAX_GROUP, MAX_NAME, Desk, check_desks, check_mailbox
from services.notify.domain.intake import SenderPolicy
from shared.settings import ServiceSettings


class MailDesk(BaseModel):
    """One service desk of `mail_desks`: its mail's From and Reply-To, and what it serves."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    name: str = Field(min_length=1, max_length=MAX_NAME, pattern=r"^[^\x00-\x1f\x7f]+$")
    sender: str = Field(alias="from", max_length=320, description="Name <address>, or an address")
    reply_to: str = Field(default="", max_length=320, description="Empty: no Reply-To")
    service_ids: list[UUID] = Field(default=[], max_length=MAX_ENTRIES)
    assignment_groups: list[str] = Field(default=[], max_length=MAX_ENTRIES)

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return check_mailbox(value)

    @field_validator("reply_to")
    @classmethod
    def _reply_to(cls, value: str) -> str:
        return check_mailbox(value) if value else value

    @field_validator("assignment_groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        for group in value:
            if not 1 <= len(group) <= MAX_GROUP or not group.strip():
                raise ValueError(f"an assignment group is 1 to {MAX_GROUP} characters: {group[:80]!r}")
        return value

    def desk(self) -> Desk:
        return Desk(
            name=self.name,
            sender=self.sender,
            reply_to=self.reply_to,
            service_ids=frozenset(self.service_ids),
            assignment_groups=frozenset(g.lower() for g in self.assignment_groups),
        )


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
    mail_smtp_tls: bool = Field(default=False, description="Implicit TLS from the first byte (port 465)")
    mail_smtp_ca_file: str = Field(
        default="",
        max_length=4096,
        description="A PEM file of the certificates to trust for the SMTP server instead of the system's (empty:"
        " the system's)",
    )
    mail_smtp_username: str = Field(default="", max_length=255, description="SMTP AUTH user; empty: no AUTH")
    mail_smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP AUTH password")
    mail_timeout_s: float = Field(default=30.0, gt=0, le=300, description="Seconds the SMTP server has to answer")
    mail_from: str = Field(
        default="Service Desk <servicedesk@localhost>", max_length=320, description="The From of the desk's e-mail"
    )
    mail_reply_to: str = Field(default="", max_length=320, description="The Reply-To of the desk's e-mail (optional)")
    mail_desks: list[MailDesk] = Field(
        default=[],
        max_length=MAX_DESKS,
        description="Service desks, each with its own From and Reply-To for the mail about the services"
        ' (service_ids) and assignment groups it serves (JSON: [{"name": ..., "from": ..., "reply_to": ...,'
        ' "service_ids": [...], "assignment_groups": [...]}]); mail about anything else goes from mail_from.'
        " Empty: one desk",
    )
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
    survey_link_secret: SecretStr = Field(
        default=SecretStr(""),
        description="The incident service's survey link key (INCIDENT_SURVEY_LINK_SECRET): with it, the caller's"
        " resolution mail carries the survey's link; empty: no link",
    )
    survey_page_url: str = Field(
        default="http://localhost:8001/survey",
        max_length=500,
        pattern=r"^https?://",
        description="Where people reach the incident service's survey pages: the base of the links",
    )
    mail_survey_wait_s: float = Field(
        default=120.0,
        ge=0,
        le=3600,
        description="With a survey link key, how long the caller's resolution mail waits for its survey",
    )

    mail_imap_host: str = Field(
        default="", max_length=255, description="IMAP server of the desk's mailbox; empty: no intake"
    )
    mail_imap_port: int = Field(default=993, ge=1, le=65535, description="IMAP port (993 with TLS, 143 without)")
    mail_imap_tls: bool = Field(
        default=True, description="Implicit TLS (IMAPS, port 993); false for STARTTLS or a server on the same host"
    )
    mail_imap_starttls: bool = Field(
        default=False,
        description="With mail_imap_tls false: upgrade the connection with STARTTLS (port 143) before the login, and"
        " fail if the server does not offer it",
    )
    mail_imap_ca_file: str = Field(
        default="",
        max_length=500,
        description="A PEM file of the certificates to trust for the IMAP server instead of the system's (empty:"
        " the system's)",
    )
    mail_imap_username: str = Field(default="", max_length=255, description="The mailbox's login")
    mail_imap_password: SecretStr = Field(default=SecretStr(""), description="The mailbox's password (or app password)")
    mail_imap_auth: Literal["password", "xoauth2"] = Field(
        default="password",
        description="password: LOGIN with mail_imap_password; xoauth2: SASL XOAUTH2 with an OAuth 2.0 access token"
        " (Microsoft 365, Gmail)",
    )
    mail_imap_oauth_token: SecretStr = Field(
        default=SecretStr(""), description="With xoauth2: a static access token minted outside (never refreshed)"
    )
    mail_imap_oauth_token_url: str = Field(
        default="",
        max_length=500,
        description="With xoauth2: the token endpoint of the client-credentials grant (https; http only on loopback)",
    )
    mail_imap_oauth_client_id: str = Field(default="", max_length=255, description="With a token URL: the client id")
    mail_imap_oauth_client_secret: SecretStr = Field(
        default=SecretStr(""), description="With a token URL: the client secret"
    )
    mail_imap_oauth_scope: str = Field(
        default="",
        max_length=500,
        description="With a token URL: the scope asked for (https://outlook.office365.com/.default for Microsoft 365)",
    )
    mail_imap_folder: str = Field(default="INBOX", min_length=1, max_length=200, description="The folder read")
    mail_imap_processed_folder: str = Field(
        default="", max_length=200, description="Folder a processed message is moved to; empty: it is flagged \\Seen"
    )
    mail_imap_timeout_s: float = Field(default=30.0, gt=0, le=300, description="Seconds the IMAP server has to answer")
    mail_intake_interval_s: float = Field(default=60.0, gt=0, description="Seconds between intake passes")
    mail_intake_idle_s: float = Field(
        default=0.0,
        ge=0,
        le=1740,
        description="Seconds a pass waits in IMAP IDLE for new mail when the server offers it (0: poll only)",
    )
    mail_intake_max_per_pass: int = Field(default=50, ge=1, le=1000, description="Messages one pass takes at most")
    mail_intake_max_message_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1024, description="Larger messages are not parsed (recorded as an error)"
    )
    mail_intake_max_body_chars: int = Field(
        default=20_000, ge=100, le=1_000_000, description="Characters of a body kept (the rest is cut)"
    )
    mail_intake_attachment_max_bytes: int = Field(
        default=5 * 1024 * 1024, ge=0, description="Larger attachments are refused (recorded with the reason)"
    )
    mail_intake_attachment_types: list[str] = Field(
        default=["image/*", "text/plain", "application/pdf"],
        max_length=100,
        description="Content types of attachments that are stored (`type/*` for every subtype)",
    )
    mail_intake_sender_policy: SenderPolicy = Field(
        default=SenderPolicy.ACCEPT, description="accept: anyone; allowed_domains: only the listed domains"
    )
    mail_intake_allowed_domains: list[str] = Field(
        default=[], max_length=1000, description="Sender domains accepted under allowed_domains"
    )
    mail_intake_max_per_sender_per_hour: int = Field(
        default=30, ge=1, le=100_000, description="Messages one sender may open or comment with per hour"
    )
    mail_intake_request_addresses: list[str] = Field(
        default=[], max_length=100, description="Recipient addresses whose mail opens a request, not an incident"
    )
    mail_intake_request_item: UUID | None = Field(
        default=None, description="Catalogue item a request by e-mail is submitted for (no item: an incident)"
    )
    mail_intake_retention_days: float = Field(
        default=90.0,
        gt=0,
        description="Days an intake record and its attachments are kept (purged by the event-log-purge job)",
    )

    @field_validator("mail_desks")
    @classmethod
    def _desks_apart(cls, value: list[MailDesk]) -> list[MailDesk]:
        check_desks([d.desk() for d in value])
        return value

    @model_validator(mode="after")
    def _one_kind_of_smtp_tls(self) -> NotifySettings:
        if self.mail_smtp_tls and self.mail_smtp_starttls:
            raise ValueError("mail_smtp_starttls upgrades a plain connection: set mail_smtp_tls to false with it")
        return self

    @model_validator(mode="after")
    def _one_kind_of_imap_tls(self) -> NotifySettings:
        if self.mail_imap_tls and self.mail_imap_starttls:
            raise ValueError("mail_imap_starttls upgrades a plain connection: set mail_imap_tls to false with it")
        return self

    @model_validator(mode="after")
    def _one_way_to_log_in(self) -> NotifySettings:
        token = self.mail_imap_oauth_token.get_secret_value()
        secret = self.mail_imap_oauth_client_secret.get_secret_value()
        flow = (self.mail_imap_oauth_token_url, self.mail_imap_oauth_client_id, secret, self.mail_imap_oauth_scope)
        if self.mail_imap_auth == "password":
            if token or any(flow):
                raise ValueError("mail_imap_oauth_* are used with mail_imap_auth=xoauth2 only: set it, or unset them")
            return self
        if not self.mail_imap_username:
            raise ValueError("mail_imap_auth=xoauth2 needs mail_imap_username (the mailbox the token is for)")
        if bool(token) == bool(self.mail_imap_oauth_token_url):
            raise ValueError(
                "mail_imap_auth=xoauth2 needs one source of tokens: mail_imap_oauth_token (static) or"
                " mail_imap_oauth_token_url with mail_imap_oauth_client_id and mail_imap_oauth_client_secret"
            )
        if token and any(flow):
            raise ValueError("mail_imap_oauth_token is used as it is: unset mail_imap_oauth_client_id, _secret, _scope")
        if token and (not token.isascii() or "\x01" in token or any(c.isspace() for c in token)):
            raise ValueError("mail_imap_oauth_token: an access token is printable ASCII without spaces")
        if self.mail_imap_oauth_token_url:
            if not (self.mail_imap_oauth_client_id and secret):
                raise ValueError(
                    "mail_imap_oauth_token_url needs mail_imap_oauth_client_id and mail_imap_oauth_client_secret"
                )
            url = urlsplit(self.mail_imap_oauth_token_url)
            loopback = url.hostname in ("localhost", "127.0.0.1", "::1")
            if not url.hostname or not (url.scheme == "https" or (url.scheme == "http" and loopback)):
                raise ValueError(
                    "mail_imap_oauth_token_url: an https URL (http only to localhost: the client secret goes in it)"
                )
        return self
