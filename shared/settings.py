"""Service settings: one pydantic-settings class per service, read from the environment.

A service reads `<SERVICE>_<FIELD>` first (for example `INCIDENT_DATABASE_URL`) and falls back
to the suite-wide `ITSM_<FIELD>` (for example `ITSM_AMQP_URL`), so one variable can configure
all five services on one machine while each can still be pointed elsewhere.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEV_JWT_SECRET = "itsm-development-secret-change-me-0123456789"


class ServiceSettings(BaseSettings):
    """What every service needs; subclasses set `service_name`, the port and the env prefix."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    service_name: ClassVar[str] = "service"
    default_port: ClassVar[int] = 8000

    environment: Literal["dev", "test", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = 0
    database_url: str = ""
    db_pool_size: int = 10
    amqp_url: SecretStr = SecretStr("amqp://guest:guest@localhost:5672/")
    events_exchange: str = "itsm.events"
    # Prefix for this service's queue names; tests use it to stay apart on a shared broker.
    queue_prefix: str = ""
    prefetch: int = Field(default=32, ge=1, le=1000)
    consumer_batch_size: int = Field(
        default=1, ge=1, le=1000, description="Events per consumer transaction, for services with a batch handler"
    )
    max_delivery_attempts: int = Field(default=5, ge=1, le=100)
    retry_delay_ms: int = Field(default=2000, ge=10)
    predecessor_wait_s: float = Field(default=600.0, ge=0, le=86_400)
    """How long an event that arrived before one it depends on waits for it (handlers raise
    `NotYet`), coming back every `retry_delay_ms`, before it is dead-lettered."""
    relay_batch_size: int = Field(default=200, ge=1, le=5000)
    relay_poll_interval_s: float = Field(default=0.5, gt=0)
    publish_timeout_s: float = Field(default=5.0, gt=0)
    disposal_interval_s: float = Field(
        default=3600, gt=0, description="How often the disposal job disposes of records past retention (4.3.3)"
    )
    disposal_batch: int = Field(default=200, ge=1, le=10_000, description="Records disposed of per transaction")
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_max_lifetime_hours: float = Field(
        default=24, gt=0, le=24 * 366, description="Tokens living longer (exp - iat) are refused with 401"
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_bulk_body_bytes: int = Field(
        default=64 * 1_048_576, ge=1024, description="The bound for bulk endpoints (discovery runs, imports)"
    )
    max_header_bytes: int = Field(
        default=32_768,
        ge=1024,
        le=1_048_576,
        description="The request line and headers of one request, in bytes; over it the server answers 431",
    )
    header_timeout_s: float = Field(
        default=10,
        gt=0,
        le=300,
        description="Seconds a connection has to send a whole request head (from opening, or from a later"
        " request's first byte); then the server closes it (408 when part of a request came)",
    )
    drain_timeout_s: float = Field(
        default=5,
        gt=0,
        le=300,
        description="On SIGTERM, seconds in-flight requests get to finish, then (separately) the deliveries in hand",
    )
    flush_timeout_s: float = Field(
        default=5,
        ge=0,
        le=300,
        description="On SIGTERM, seconds the outbox relay gets to publish what is still pending before exiting",
    )
    run_worker: bool = Field(
        default=True, description="Run the outbox relay and consumer inside the API process (off: use `itsm worker`)"
    )
    backdate_max_days: int = Field(
        default=92,
        ge=0,
        le=3650,
        description="How far back an admin may record an occurrence (X-ITSM-Occurred-At, for imports); 0 turns it off",
    )
    write_rate_per_minute: float = Field(
        default=0, ge=0, description="Writes (non-GET requests) a minute per token subject, per process; 0 turns it off"
    )
    write_burst: int = Field(default=60, ge=1, description="Writes a subject may make at once before the rate applies")
    metrics_sample_interval_s: float = Field(
        default=5.0, gt=0, description="How often the backlog gauges (outbox, queue depths) are sampled"
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Where `itsm worker` serves /metrics (on `host`); unset: the service's port + 100; 0: not served",
    )
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _fill_defaults_and_refuse_unsafe(self) -> ServiceSettings:
        if not self.port:
            self.port = self.default_port
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///./var/{self.service_name}.db"
        if self.environment == "prod" and uses_development_secret(self):
            raise ValueError("jwt_secret: the development secret is refused in prod; set a JWKS URL or a secret")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        suite_wide = EnvSettingsSource(settings_cls, env_prefix="ITSM_")
        return init_settings, env_settings, suite_wide, dotenv_settings, file_secret_settings

    def queue_name(self) -> str:
        return f"{self.queue_prefix}{self.service_name}"

    def describe(self) -> dict[str, Any]:
        """Settings without secrets, for a startup log line."""
        return self.model_dump(exclude={"amqp_url", "jwt_secret"})


def uses_development_secret(settings: ServiceSettings) -> bool:
    """Tokens are checked against the built-in development secret (anyone can mint them)."""
    return settings.jwt_jwks_url is None and settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET
