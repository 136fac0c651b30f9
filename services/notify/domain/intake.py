"""E-mail intake as pure rules: a raw message parsed (sender, subject, the plain-text body, the
message ids it answers, its attachments), recognised as an auto-reply or a bounce (a DSN, with the
recipients that failed), matched to the ticket it answers (a ticket number in the subject), and
judged by the desk's policies (unknown senders, attachments' size and type, what a new message
opens). No I/O: the IMAP edge hands the bytes in, the use case records the outcome."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from enum import StrEnum
from html.parser import HTMLParser
from uuid import UUID


class Outcome(StrEnum):
    OPENED = "opened"
    """Accepted as a new ticket: sent to the incident service to open one."""
    COMMENTED = "commented"
    """Accepted as a reply: sent to the incident service as a customer comment on its ticket."""
    REQUEST_REPLY = "request_reply"
    """A reply about a service request (its REQ number, or a message notify sent about it):
    requests take no comments, so it is recorded with the reason and refused (nothing opened)."""
    AUTO_REPLY = "auto_reply"
    """An automatic answer (out of office, a list, another robot): opens nothing, is never answered."""
    BOUNCE = "bounce"
    """A delivery status notification: its failed recipients are marked bounced."""
    REJECTED_SENDER = "rejected_sender"
    """The sender's domain is not allowed by the policy."""
    RATE_LIMITED = "rate_limited"
    """The sender sent more than the bound allows within the hour (a mail storm)."""
    ERROR = "error"
    """The message could not be read (recorded so that it is not fetched again)."""


class SenderPolicy(StrEnum):
    ACCEPT = "accept"
    """Anyone may open a ticket by e-mail."""
    ALLOWED_DOMAINS = "allowed_domains"
    """Only senders of the listed domains; others are recorded as rejected."""


AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
TICKET_BRACKETED = re.compile(r"\[\s*(INC\d{7,12})\s*\]", re.IGNORECASE)
TICKET_ANYWHERE = re.compile(r"(?<![A-Za-z0-9])(INC\d{7,12})(?![0-9])", re.IGNORECASE)
REQUEST_BRACKETED = re.compile(r"\[\s*(REQ\d{7,12})\s*\]", re.IGNORECASE)
REQUEST_ANYWHERE = re.compile(r"(?<![A-Za-z0-9])(REQ\d{7,12})(?![0-9])", re.IGNORECASE)
REQUEST_TAG = re.compile(r"\[\s*(REQ|request)\s*\]", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<([^<>\s]{1,990})>")
MAX_REFERENCES = 50


def auto_reply_reason(headers: Mapping[str, str]) -> str | None:
    """Why a message with these headers (names in lower case) is an automatic one, or None:
    `Auto-Submitted` other than `no` (RFC 3834), `Precedence` bulk, junk, list or auto_reply,
    `X-Autoreply` or `X-Autorespond` present."""
    submitted = headers.get("auto-submitted", "").strip().lower()
    if submitted and submitted.split(";", 1)[0].strip() != "no":
        return f"Auto-Submitted: {submitted[:100]}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond"):
        if name in headers:
            return f"{name} present"
    return None


def ticket_number(subject: str) -> str | None:
    """The incident number a subject names: `[INC0001234]` first, else the number anywhere."""
    found = TICKET_BRACKETED.search(subject) or TICKET_ANYWHERE.search(subject)
    return found.group(1).upper() if found else None


def request_number(subject: str) -> str | None:
    """The service request number a subject names: `[REQ0001234]` first, else the number anywhere
    (the `[REQ]` tag without digits asks for a new request: no number)."""
    found = REQUEST_BRACKETED.search(subject) or REQUEST_ANYWHERE.search(subject)
    return found.group(1).upper() if found else None


def request_reply_detail(number: str | None) -> str:
    """The intake log's reason for refusing a reply about a request."""
    which = f"request {number}" if number else "a service request"
    return (
        f"a reply about {which}: service requests take no comments, so it was not added to the"
        " request and opened nothing; the requester should be answered by the desk"
    )


def referenced_ids(in_reply_to: str, references: str) -> list[str]:
    """The message ids a message answers, nearest first: `In-Reply-To`, then `References` from the
    last (the parent) back; each once, at most 50."""
    ids: list[str] = []
    for value in [*MESSAGE_ID.findall(in_reply_to), *reversed(MESSAGE_ID.findall(references))]:
        if value not in ids:
            ids.append(value)
    return ids[:MAX_REFERENCES]


def sent_message_uuid(message_id: str) -> UUID | None:
    """The id of a message notify sent (`<uuid@domain>`, see the delivery pass), or None."""
    local = message_id.split("@", 1)[0]
    try:
        return UUID(local)
    except ValueError:
        return None


def sender_allowed(sender: str, sender_policy: SenderPolicy, domains: Collection[str]) -> bool:
    if sender_policy is SenderPolicy.ACCEPT:
        return True
    domain = sender.rsplit("@", 1)[-1].lower() if "@" in sender else ""
    return domain in {d.lower() for d in domains}


def kind_of(subject: str, recipients: Collection[str], request_addresses: Collection[str]) -> str:
    """`request` for a subject tagged `[REQ]` or `[request]`, or a message sent to one of the
    request addresses; else `incident`."""
    wanted = {a.lower() for a in request_addresses}
    if REQUEST_TAG.search(subject) or any(r.lower() in wanted for r in recipients):
        return "request"
    return "incident"


def attachment_refusal(content_type: str, size: int, allowed_types: Collection[str], max_bytes: int) -> str | None:
    """Why an attachment is refused (too large, a type not on the allowlist), or None."""
    if size > max_bytes:
        return f"{size} bytes, more than the limit of {max_bytes}"
    base = content_type.split(";", 1)[0].strip().lower()
    allowed = {t.lower() for t in allowed_types}
    if base not in allowed and f"{base.split('/', 1)[0]}/*" not in allowed:
        return f"type {base} is not allowed"
    return None


# ---------------------------------------------------------------------------- parsing


class _Text(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"})
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The text of an HTML body: scripts and styles dropped, blocks on lines of their own, runs of
    spaces and of blank lines folded."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Bounce:
    recipient: str
    status: str
    diagnostic: str


@dataclass(frozen=True)
class Parsed:
    message_id: str | None
    sender: str
    recipients: list[str]
    subject: str
    body: str
    references: list[str]
    auto_reply: str | None
    bounces: list[Bounce] | None
    """None: not a DSN; else the failed recipients it reports (maybe none)."""
    attachments: list[Attachment] = field(default_factory=list)


def _headers(msg: Message) -> dict[str, str]:
    return {name.lower(): str(value) for name, value in msg.items()}


def _decoded_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _body_and_attachments(msg: EmailMessage) -> tuple[str, list[Attachment]]:
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        if disposition == "attachment" or (part.get_filename() and disposition != "inline"):
            data = part.get_payload(decode=True)
            raw = data if isinstance(data, bytes) else b""
            attachments.append(Attachment(part.get_filename() or "attachment", content_type, raw))
        elif content_type == "text/plain" and plain is None:
            plain = _decoded_text(part)
        elif content_type == "text/html" and html is None:
            html = _decoded_text(part)
    if plain is not None and plain.strip():
        return plain.strip(), attachments
    return (html_to_text(html) if html else ""), attachments


def _dsn_bounces(msg: Message) -> list[Bounce] | None:
    if msg.get_content_type() != "multipart/report" or msg.get_param("report-type") != "delivery-status":
        return None
    found: list[Bounce] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            action = str(block.get("Action", "")).strip().lower()
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            if action != "failed" or not recipient:
                continue
            address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
            status = str(block.get("Status", "")).strip()[:20]
            diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())[:500]
            found.append(Bounce(address, status, diagnostic))
    return found


def parse(raw: bytes, *, max_body_chars: int) -> Parsed:
    """The parts of a raw message the intake uses; the body cut to `max_body_chars`."""
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    headers = _headers(msg)
    sender = parseaddr(headers.get("from", ""))[1].strip().lower()
    recipients = [a.lower() for _, a in getaddresses([headers.get("to", ""), headers.get("cc", "")]) if a]
    subject = " ".join(headers.get("subject", "").split())[:500]
    ids = MESSAGE_ID.findall(headers.get("message-id", ""))
    bounces = _dsn_bounces(msg)
    body, attachments = ("", []) if bounces is not None else _body_and_attachments(msg)
    return Parsed(
        message_id=f"<{ids[0]}>" if ids else None,
        sender=sender[:320],
        recipients=recipients[:50],
        subject=subject,
        body=body[:max_body_chars],
        references=referenced_ids(headers.get("in-reply-to", ""), headers.get("references", "")),
        auto_reply=auto_reply_reason(headers),
        bounces=bounces,
        attachments=attachments,
    )


@dataclass(frozen=True)
class IntakePolicy:
    sender_policy: SenderPolicy = SenderPolicy.ACCEPT
    allowed_domains: tuple[str, ...] = ()
    max_per_sender_per_hour: int = 30


def classify(
    parsed: Parsed, rules: IntakePolicy, *, answers_ticket: bool, sent_last_hour: int, answers_request: bool = False
) -> Outcome:
    """What becomes of a message: a bounce or an auto-reply first (they never open or answer
    anything), then the sender policy and the per-sender bound, then a comment when it answers a
    known incident, a refused request reply when it answers a request, else a new ticket. A message
    without a sender address is taken for automatic."""
    if parsed.bounces is not None:
        return Outcome.BOUNCE
    if parsed.auto_reply is not None or not parsed.sender:
        return Outcome.AUTO_REPLY
    if not sender_allowed(parsed.sender, rules.sender_policy, rules.allowed_domains):
        return Outcome.REJECTED_SENDER
    if sent_last_hour >= rules.max_per_sender_per_hour:
        return Outcome.RATE_LIMITED
    if answers_ticket:
        return Outcome.COMMENTED
    return Outcome.REQUEST_REPLY if answers_request else Outcome.OPENED
