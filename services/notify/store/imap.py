"""The IMAP edge of e-mail intake (aioimaplib): connect with implicit TLS, or upgrade a plain
connection with STARTTLS (RFC 3501 6.2.1; aioimaplib knows the command but does not upgrade, so
the upgrade is done here on its transport), log in (`LOGIN` with the password, or `AUTHENTICATE
XOAUTH2` with an OAuth 2.0 access token, see `_xoauth2`), select the desk's folder and read its
UIDVALIDITY, list the unseen messages by UID, fetch one (with `BODY.PEEK[]`, so that fetching
alone marks nothing), mark it done (flag `\\Seen`, or move it to the processed folder), and wait
in IDLE for new mail where the server offers it."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
import ssl
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aioimaplib

from services.notify.store.oauth import OAuthConfig, TokenError, access_token

log = logging.getLogger(__name__)
UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
FETCH_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class ImapError(Exception):
    """The server refused a command, or could not be reached."""


IMAP_FAILURES = (ImapError, OSError, TimeoutError, aioimaplib.AioImapException)
"""What a session may raise: a refusal, a lost connection, a command that timed out."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    tls: bool
    username: str
    password: str = field(repr=False)
    folder: str
    processed_folder: str
    timeout_s: float
    starttls: bool = False
    ca_file: str = ""
    """A PEM file of the certificates to trust instead of the system's (a desk's own CA)."""
    oauth: OAuthConfig | None = None
    """Log in with SASL XOAUTH2 and this token (source) instead of LOGIN with the password."""

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying context: the server's certificate and its name are checked."""
        return ssl.create_default_context(cafile=self.ca_file or None)


def _check(response: Any, what: str) -> Any:
    if response.result != "OK":
        detail = b" ".join(bytes(line) for line in response.lines)[:300].decode(errors="replace")
        raise ImapError(f"{what}: {response.result} {detail}")
    return response


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _start_tls(client: aioimaplib.IMAP4, cfg: ImapConfig) -> None:
    """Upgrade the connection with STARTTLS before anything else is sent, or fail: a server that
    does not announce it is refused (the login would go in clear), and one whose certificate does
    not verify fails the handshake. The capabilities are read again over TLS (RFC 3501 6.2.1)."""
    protocol = client.protocol
    if "STARTTLS" not in protocol.capabilities:
        raise ImapError("STARTTLS: the server does not offer it (NOTIFY_MAIL_IMAP_STARTTLS is set)")
    _check(await protocol.execute(aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)), "STARTTLS")
    loop = asyncio.get_running_loop()
    transport = await loop.start_tls(protocol.transport, protocol, cfg.ssl_context(), server_hostname=cfg.host)
    if transport is None:  # pragma: no cover - the loop answers a transport or raises
        raise ImapError("STARTTLS: the connection could not be upgraded")
    protocol.transport = transport
    protocol.capabilities = set()
    await protocol.capability()


class _XOAuth2(aioimaplib.Command):  # type: ignore[misc]  # aioimaplib has no type hints mypy reads
    """`AUTHENTICATE XOAUTH2`, the SASL string sent as the answer to the server's first (empty)
    challenge, as Microsoft's and Google's documentation shows it. The string (the token in base64)
    is written to the connection here and never goes through aioimaplib's command text, which its
    debug log prints (its `scrub=token` cannot find the token inside the base64). A server that
    refuses the token sends its error as a second challenge (`+ <base64 JSON>`) and waits for an
    empty response before its tagged NO (Google's and Dovecot's XOAUTH2 do; aioimaplib's own
    `xoauth2` sends nothing there and waits until its timeout)."""

    def __init__(self, protocol: Any, sasl: str) -> None:
        super().__init__("AUTHENTICATE", protocol.new_tag(), "XOAUTH2", loop=protocol.loop)
        self._protocol = protocol
        self._sasl: str | None = sasl

    def append_to_resp(self, line: bytes, result: str = "Pending") -> None:
        super().append_to_resp(line, result)
        if line.startswith(b"+"):  # a challenge (aioimaplib hands this command each continuation line)
            sasl, self._sasl = self._sasl, None
            self._protocol.transport.write((sasl or "").encode("ascii") + b"\r\n")


def sasl_xoauth2(user: str, token: str) -> str:
    """The XOAUTH2 initial response: base64 of `user=<user>^Aauth=Bearer <token>^A^A`."""
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode("ascii")


def _refusal(response: Any) -> str:
    """The server's answer to a refused XOAUTH2: its tagged text and its JSON error challenge."""
    said, challenge = [], ""
    for line in response.lines:
        text = bytes(line)
        if text.startswith(b"+"):
            with contextlib.suppress(binascii.Error, ValueError):
                challenge = base64.b64decode(text[1:].strip(), validate=True).decode(errors="replace")[:200]
        else:
            said.append(text.decode(errors="replace"))
    return f"{response.result} {' '.join(said)[:300]}" + (f" (server: {challenge})" if challenge else "")


async def _xoauth2(client: aioimaplib.IMAP4, cfg: ImapConfig, token: str) -> Any:
    protocol = client.protocol
    sasl = sasl_xoauth2(cfg.username, token)
    response = await asyncio.wait_for(protocol.execute(_XOAuth2(protocol, sasl)), cfg.timeout_s)
    if response.result == "OK":
        protocol.state = aioimaplib.AUTH
    return response


async def _log_in(client: aioimaplib.IMAP4, cfg: ImapConfig) -> None:
    """LOGIN with the password; or XOAUTH2 with the access token, and once more with a new one from
    the token endpoint when the server refuses it (expired or revoked before its `expires_in`)."""
    if cfg.oauth is None:
        _check(await client.login(cfg.username, cfg.password), "LOGIN")
        return
    try:
        response = await _xoauth2(client, cfg, await access_token(cfg.oauth))
        if response.result != "OK" and cfg.oauth.refreshable:
            log.info("mail intake: the IMAP server refused the token (%s); fetching a new one", _refusal(response))
            response = await _xoauth2(client, cfg, await access_token(cfg.oauth, fresh=True))
    except TokenError as exc:
        raise ImapError(f"XOAUTH2: no access token: {exc}") from None
    if response.result != "OK":
        raise ImapError(f"AUTHENTICATE XOAUTH2 as {cfg.username}: {_refusal(response)}")


class Mailbox:
    """One session on the desk's folder: `async with Mailbox(config) as box: ...`."""

    def __init__(self, config: ImapConfig) -> None:
        self._config = config
        self._client: aioimaplib.IMAP4 | None = None
        self.uidvalidity = 0

    async def __aenter__(self) -> Self:
        cfg = self._config
        try:
            if cfg.tls:
                client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
                    host=cfg.host, port=cfg.port, timeout=cfg.timeout_s, ssl_context=cfg.ssl_context()
                )
            else:
                client = aioimaplib.IMAP4(host=cfg.host, port=cfg.port, timeout=cfg.timeout_s)
            self._client = client
            await client.wait_hello_from_server()
            if cfg.starttls and not cfg.tls:
                await asyncio.wait_for(_start_tls(client, cfg), cfg.timeout_s)
            await _log_in(client, cfg)
            selected = _check(await client.select(_quoted(cfg.folder)), f"SELECT {cfg.folder}")
        except (OSError, TimeoutError, aioimaplib.AioImapException) as exc:
            await self._close()
            raise ImapError(f"{type(exc).__name__}: {exc}"[:500]) from exc
        except ImapError:
            await self._close()
            raise
        for line in selected.lines:
            if found := UIDVALIDITY.search(bytes(line)):
                self.uidvalidity = int(found.group(1))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._close()

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(OSError, TimeoutError, aioimaplib.AioImapException):
            await asyncio.wait_for(client.logout(), self._config.timeout_s)

    @property
    def client(self) -> aioimaplib.IMAP4:
        assert self._client is not None, "use the mailbox inside `async with`"
        return self._client

    @property
    def supports_idle(self) -> bool:
        return bool(self.client.has_capability("IDLE"))

    async def unseen(self) -> dict[int, int]:
        """UID -> size in bytes of each message not flagged `\\Seen`, in UID order."""
        found = _check(await self.client.uid_search("UNSEEN", charset=None), "SEARCH")
        uids = [int(u) for u in bytes(found.lines[0]).split() if u.isdigit()] if found.lines else []
        if not uids:
            return {}
        sizes = _check(await self.client.uid("fetch", ",".join(map(str, uids)), "(RFC822.SIZE)"), "FETCH")
        result: dict[int, int] = {}
        for line in sizes.lines:
            if match := FETCH_SIZE.search(bytes(line)):
                uid, size = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
                result[int(uid)] = int(size)
        return dict(sorted(result.items()))

    async def fetch(self, uid: int) -> bytes | None:
        """The raw message of `uid`, or None when it is gone (expunged meanwhile)."""
        fetched = _check(await self.client.uid("fetch", str(uid), "(BODY.PEEK[])"), "FETCH")
        for line in fetched.lines:
            if isinstance(line, bytearray):
                return bytes(line)
        return None

    async def done(self, uid: int) -> None:
        """Mark `uid` processed: moved to the processed folder when one is set, else flagged `\\Seen`."""
        if self._config.processed_folder:
            _check(await self.client.uid("move", str(uid), _quoted(self._config.processed_folder)), "MOVE")
        else:
            _check(await self.client.uid("store", str(uid), "+FLAGS.SILENT", "(\\Seen)"), "STORE")

    async def wait_for_mail(self, seconds: float) -> bool:
        """Wait in IDLE up to `seconds` for the server to announce new mail; True when it did."""
        client = self.client
        idle = await client.idle_start(timeout=seconds)
        try:
            while True:
                pushed = await client.wait_server_push(timeout=seconds + 1)
                if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    return False
                if any(bytes(line).endswith(b"EXISTS") for line in pushed):
                    return True
        except TimeoutError:
            return False
        finally:
            client.idle_done()
            await asyncio.wait_for(idle, self._config.timeout_s)
