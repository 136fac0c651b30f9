"""Settings sources, the problem table and token handling, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import ValidationError

from services.incident.settings import IncidentSettings
from services.reporting.settings import ReportingSettings
from shared.auth import Principal, TokenVerifier, mint_token
from shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidTransition,
    NotFound,
    RuleViolation,
    Unauthenticated,
    problem_for,
)


def test_a_service_variable_wins_over_the_suite_wide_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITSM_AMQP_URL", "amqp://suite/")
    monkeypatch.setenv("INCIDENT_AMQP_URL", "amqp://incident-only/")
    assert IncidentSettings().amqp_url.get_secret_value() == "amqp://incident-only/"
    assert ReportingSettings().amqp_url.get_secret_value() == "amqp://suite/"


def test_defaults_give_each_service_its_port_and_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("INCIDENT_DATABASE_URL", "ITSM_DATABASE_URL", "INCIDENT_PORT", "ITSM_PORT"):
        monkeypatch.delenv(var, raising=False)
    settings = IncidentSettings()
    assert settings.port == 8001
    assert settings.database_url == "sqlite+aiosqlite:///./var/incident.db"
    assert ReportingSettings().port == 8005
    assert "jwt_secret" not in settings.describe()


def test_prod_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="development secret"):
        IncidentSettings(environment="prod")
    assert (
        IncidentSettings(environment="prod", jwt_secret="a-real-secret-of-enough-length-123456").environment == "prod"
    )


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("x"), 404),
        (InvalidTransition("close", "new", ["assign"]), 409),
        (Conflict("x"), 409),
        (RuleViolation("x"), 422),
        (Unauthenticated("x"), 401),
        (Forbidden("x"), 403),
        (DomainError("x"), 400),
    ],
)
def test_each_domain_error_maps_to_one_status(error: DomainError, status: int) -> None:
    assert problem_for(error).status == status


def test_an_invalid_transition_names_the_allowed_actions() -> None:
    error = InvalidTransition("close", "new", ["cancel", "assign"])
    assert error.extensions == {"state": "new", "allowed_actions": ["assign", "cancel"]}


SECRET = "unit-test-secret-0123456789abcdef0123"


async def test_a_minted_token_verifies_to_its_subject_and_roles() -> None:
    verifier = TokenVerifier(secret=SECRET)
    principal = await verifier.verify(mint_token(SECRET, "alice", ["agent", "auditor"]))
    assert principal == Principal("alice", frozenset({"agent", "auditor"}))
    assert principal.has_any(["agent"])
    assert not principal.has_any(["change_manager"])
    assert Principal("root", frozenset({"admin"})).has_any(["change_manager"])


@pytest.mark.parametrize(
    "token",
    [
        mint_token("another-secret-0123456789abcdef012345", "alice", ["agent"]),
        mint_token(SECRET, "alice", ["agent"], ttl=timedelta(seconds=-5)),
        "garbage",
    ],
)
async def test_a_token_signed_elsewhere_expired_or_garbled_is_refused(token: str) -> None:
    with pytest.raises(Unauthenticated):
        await TokenVerifier(secret=SECRET).verify(token)


async def test_the_groups_claim_names_the_assignment_groups_and_must_be_a_list() -> None:
    verifier = TokenVerifier(secret=SECRET)
    principal = await verifier.verify(mint_token(SECRET, "ann", ["agent"], groups=["network", "service-desk"]))
    assert principal.groups == frozenset({"network", "service-desk"})
    assert (await verifier.verify(mint_token(SECRET, "bob", ["agent"]))).groups == frozenset()
    now = datetime.now(UTC)
    garbled = jwt.encode(
        {"sub": "eve", "roles": ["agent"], "groups": "network", "iat": now, "exp": now + timedelta(hours=1)},
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(Unauthenticated, match="must be lists"):
        await verifier.verify(garbled)


async def test_audience_is_checked_when_configured() -> None:
    verifier = TokenVerifier(secret=SECRET, audience="itsm")
    assert (await verifier.verify(mint_token(SECRET, "a", ["agent"], audience="itsm"))).subject == "a"
    with pytest.raises(Unauthenticated):
        await verifier.verify(mint_token(SECRET, "a", ["agent"], audience="other"))
