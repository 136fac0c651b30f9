"""A stand-in for an OAuth 2.0 identity provider, for the XOAUTH2 intake tests: the standard
library's `http.server` on a free port of 127.0.0.1, in a thread of its own (Dovecot's auth process
calls it while the test's event loop waits on Dovecot). It plays both of the provider's parts:

- the token endpoint (RFC 6749 4.4, client credentials): `POST /token` with `grant_type`,
  `client_id`, `client_secret` (in the form, or HTTP Basic) and `scope`; it issues a new opaque
  token for the right secret (and counts the issues) and answers 401 `invalid_client` otherwise;
- the introspection endpoint (RFC 7662) Dovecot's `oauth2` passdb asks: `POST /introspect` with
  `token`; it answers `{"active": true, "username": ...}` for a token it issued or was given and
  has not revoked, `{"active": false}` otherwise.

The server under test is Dovecot (and notify's client); this is only the party both trust."""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Provider:
    username: str
    client_id: str = "itsm-notify"
    client_secret: str = "client-secret"
    expires_in: int = 3600
    port: int = 0
    issued: list[str] = field(default_factory=list)
    """The tokens the token endpoint issued, in order."""
    refused: int = 0
    """Token requests refused (a wrong client or secret)."""
    scopes: list[str] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    introspection_active: bool = True
    token_answer: tuple[int, bytes] | None = None
    """Set: the token endpoint answers this status and body (JSON content type) instead, issuing nothing."""
    """False: introspection calls every token inactive (as for a mailbox whose access was withdrawn)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def grant(self) -> str:
        """A token minted outside the token endpoint (as an administrator's tool would)."""
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.valid.add(token)
        return token

    def revoke(self, token: str) -> None:
        with self.lock:
            self.valid.discard(token)

    def revoke_all(self) -> None:
        with self.lock:
            self.valid.clear()

    def issue(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            with self.lock:
                self.refused += 1
            return 401, {"error": "invalid_client", "error_description": "client authentication failed"}
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.valid.add(token)
            self.issued.append(token)
            self.scopes.append(form.get("scope", ""))
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}

    def introspect(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        with self.lock:
            active = self.introspection_active and form.get("token", "") in self.valid
        return 200, ({"active": True, "username": self.username} if active else {"active": False})


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
                form |= {"client_id": client_id, "client_secret": secret}
            if self.path == "/token" and provider.token_answer is not None:
                status, data = provider.token_answer
                self._answer(status, data)
                return
            if self.path == "/token":
                status, body = provider.issue(form)
            elif self.path == "/introspect":
                status, body = provider.introspect(form)
            else:
                status, body = 404, {"error": "not found"}
            self._answer(status, json.dumps(body).encode())

        def _answer(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def identity_provider(username: str, **options: object) -> Iterator[Provider]:
    """The provider on a free port of 127.0.0.1, serving until the block ends."""
    provider = Provider(username, **options)  # type: ignore[arg-type]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="identity-provider", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
