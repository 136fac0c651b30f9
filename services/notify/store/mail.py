"""The e-mail edge: templates rendered from the files in `web/mail/<locale>/` (Jinja2, sandboxed;
the HTML part autoescaped, the plain-text part and the subject not), the message built with both
parts, and sent over SMTP (aiosmtplib; STARTTLS and AUTH when the settings ask for them)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from functools import cache
from pathlib import Path
from typing import Any

import aiosmtplib
from jinja2 import FileSystemLoader, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from shared.errors import RuleViolation

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "mail"
MAX_SUBJECT = 500


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def _environments(locale: str) -> tuple[SandboxedEnvironment, SandboxedEnvironment]:
    """(plain, html): the plain one for the subject and the text part, the other autoescaped.
    A locale without its own folder falls back to `en`, template by template."""
    folders = [str(TEMPLATES / locale), str(TEMPLATES / "en")]
    plain = SandboxedEnvironment(loader=FileSystemLoader(folders), autoescape=False, keep_trailing_newline=True)
    html = SandboxedEnvironment(loader=FileSystemLoader(folders), autoescape=True)
    return plain, html


def template_exists(name: str, locale: str = "en") -> bool:
    plain, _ = _environments(locale)
    try:
        for suffix in ("subject.txt", "txt", "html"):
            plain.get_template(f"{name}.{suffix}")
    except TemplateNotFound:
        return False
    return True


def render(name: str, locale: str, context: dict[str, Any]) -> Rendered:
    """The three parts of template `name`, or RuleViolation when one of its files is missing."""
    plain, html = _environments(locale)
    try:
        subject = plain.get_template(f"{name}.subject.txt").render(context)
        text = plain.get_template(f"{name}.txt").render(context)
        body = html.get_template(f"{name}.html").render(context)
    except TemplateNotFound as exc:
        raise RuleViolation(f"no template {name!r} (its file {exc.name} is missing)", field="template") from exc
    except (TemplateError, ValueError, TypeError) as exc:  # includes the sandbox's SecurityError
        raise RuleViolation(f"template {name!r} failed: {exc}"[:500], field="template") from exc
    subject = " ".join(subject.split())[:MAX_SUBJECT]
    return Rendered(subject, text, body)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    starttls: bool
    username: str
    password: str
    timeout_s: float
    sender: str
    """The default desk's From (a message queued for another desk carries its own)."""
    reply_to: str
    tls: bool = False
    """Implicit TLS (port 465); `starttls` upgrades a plain connection instead."""
    ca_file: str = ""
    """Certificates to trust instead of the system's; the server's certificate and name are
    verified either way."""

    def tls_context(self) -> ssl.SSLContext | None:
        if not (self.tls or self.starttls):
            return None
        return ssl.create_default_context(cafile=self.ca_file or None)


def message_of(
    sender: str,
    reply_to: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    *,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML second (RFC 2046); with
    an unsubscribe link, the RFC 8058 one-click headers. `sender` and `reply_to` are the desk's
    (no Reply-To when it is empty)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


class SmtpSession:
    """One SMTP connection for a delivery pass: opened when the first message is sent, reused for
    the next ones (one connection per message costs a handshake and, at the server, a process
    each), opened again after a failure, closed with QUIT at the end of the pass."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> SmtpSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._close(quit_first=True)

    async def _close(self, *, quit_first: bool) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            if quit_first:
                await client.quit()
            else:
                client.close()
        except (aiosmtplib.SMTPException, OSError):
            client.close()

    async def send(self, message: EmailMessage) -> str | None:
        """Hand `message` to the SMTP server: None when it accepted it, else what went wrong."""
        config = self.config
        try:
            if self._client is None or not self._client.is_connected:
                self._client = aiosmtplib.SMTP(
                    hostname=config.host,
                    port=config.port,
                    start_tls=config.starttls,
                    use_tls=config.tls,
                    tls_context=config.tls_context(),
                    username=config.username or None,
                    password=config.password or None,
                    timeout=config.timeout_s,
                )
                await self._client.connect()
            await self._client.send_message(message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self._close(quit_first=False)  # a fresh connection for the next message
            return f"{type(exc).__name__}: {exc}"[:500]
        return None
