"""RS256 tokens verified through a JWKS URL, as with a real identity provider."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.auth import TokenVerifier
from shared.errors import Unauthenticated

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key())) | {"kid": "k1", "use": "sig", "alg": "RS256"}
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def _token(key: rsa.RSAPrivateKey, **claims: object) -> str:
    now = datetime.now(UTC)
    payload = {"sub": "carol", "exp": now + timedelta(minutes=5), "iss": "https://idp.example"} | claims
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


async def test_a_token_from_the_identity_provider_verifies_with_nested_roles(jwks_url: str) -> None:
    verifier = TokenVerifier(secret=None, jwks_url=jwks_url, issuer="https://idp.example")
    principal = await verifier.verify(_token(KEY, realm_access={"roles": ["change_manager"]}))
    assert principal.subject == "carol"
    assert principal.roles == frozenset({"change_manager"})


async def test_a_token_signed_by_another_key_or_issuer_is_refused(jwks_url: str) -> None:
    verifier = TokenVerifier(secret=None, jwks_url=jwks_url, issuer="https://idp.example")
    with pytest.raises(Unauthenticated):
        await verifier.verify(_token(OTHER_KEY, roles=["admin"]))
    with pytest.raises(Unauthenticated):
        await verifier.verify(_token(KEY, roles=["admin"], iss="https://evil.example"))
