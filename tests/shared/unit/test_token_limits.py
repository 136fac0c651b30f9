"""Token limits (a maximum lifetime, a non-empty subject) and the development-secret warning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from shared.auth import TokenVerifier, mint_token
from shared.errors import Unauthenticated
from shared.settings import DEV_JWT_SECRET

SECRET = "unit-test-secret-0123456789abcdef0123"


def _signed(claims: dict[str, object]) -> str:
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def test_a_token_living_longer_than_the_maximum_is_refused() -> None:
    verifier = TokenVerifier(secret=SECRET, max_lifetime=timedelta(hours=24))
    with pytest.raises(Unauthenticated, match="lifetime"):
        await verifier.verify(mint_token(SECRET, "alice", ["agent"], ttl=timedelta(days=365 * 100)))


async def test_without_iat_the_lifetime_counts_from_now() -> None:
    verifier = TokenVerifier(secret=SECRET, max_lifetime=timedelta(hours=24))
    now = datetime.now(UTC)
    with pytest.raises(Unauthenticated, match="lifetime"):
        await verifier.verify(_signed({"sub": "alice", "exp": now + timedelta(days=2)}))
    assert (await verifier.verify(_signed({"sub": "alice", "exp": now + timedelta(hours=1)}))).subject == "alice"


async def test_a_token_within_the_maximum_is_accepted() -> None:
    verifier = TokenVerifier(secret=SECRET, max_lifetime=timedelta(hours=24))
    token = mint_token(SECRET, "alice", ["agent"], ttl=timedelta(hours=24))
    assert (await verifier.verify(token)).subject == "alice"


@pytest.mark.parametrize("subject", ["", "   "])
async def test_a_token_with_an_empty_subject_is_refused(subject: str) -> None:
    with pytest.raises(Unauthenticated, match="sub"):
        await TokenVerifier(secret=SECRET).verify(mint_token(SECRET, subject, ["agent"]))


def test_the_maximum_lifetime_is_a_setting_defaulting_to_24_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    assert IncidentSettings().jwt_max_lifetime_hours == 24
    monkeypatch.setenv("ITSM_JWT_MAX_LIFETIME_HOURS", "2")
    assert IncidentSettings().jwt_max_lifetime_hours == 2


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_development_secret_outside_tests_gives_a_loud_warning(
    environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if environment == "prod":
        # prod refuses the development secret outright; with a JWKS URL the secret is unused, no warning.
        create_app(IncidentSettings(environment="prod", jwt_jwks_url="https://idp.example/jwks", log_json=False))
        assert "development JWT secret" not in capsys.readouterr().err
        return
    create_app(IncidentSettings(environment="dev", jwt_secret=DEV_JWT_SECRET, log_json=False))
    err = capsys.readouterr().err
    assert "WARNING" in err
    assert "development JWT secret" in err


def test_no_warning_in_tests_or_with_another_secret(capsys: pytest.CaptureFixture[str]) -> None:
    create_app(IncidentSettings(environment="test", log_json=False))
    create_app(IncidentSettings(environment="dev", jwt_secret=SECRET, log_json=False))
    assert "development JWT secret" not in capsys.readouterr().err


@pytest.fixture(autouse=True)
def _keep_root_logging() -> Iterator[None]:
    """`create_app` configures the root logger; give the other tests theirs back."""
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level
