"""Report agreements as pure rules (ISO/IEC 20000-1 6.2): versions, the distribution list they
name, and the content hash of the runs produced under them.

An agreement is kept as versions: every change (a proposal, the agreement itself, retirement)
is a new version; none is ever changed or removed. The version *in force* is the latest one that
is not a draft: a new draft on top of an agreed version leaves that version in force (the report
goes on being produced and distributed under it) until the draft is agreed. Only a report whose
version in force is `agreed` is scheduled.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from shared.errors import InvalidTransition, NotFound, RuleViolation

Status = Literal["draft", "agreed", "retired"]
Channel = Literal["webhook"]
CHANNELS: tuple[str, ...] = ("webhook",)
"""How a run reaches a recipient. Only channels that really deliver are listed (no e-mail yet)."""


@dataclass(frozen=True)
class Recipient:
    recipient: str
    channel: str

    def as_json(self) -> dict[str, str]:
        return {"recipient": self.recipient, "channel": self.channel}


@dataclass(frozen=True)
class AgreementVersion:
    """One version of a report's agreement, as recorded (never changed afterwards)."""

    report: str
    version: int
    status: Status
    owner: str
    agreed_with: tuple[str, ...]
    agreed_at: datetime | None
    distribution_list: tuple[Recipient, ...]
    definition: Mapping[str, Any]
    """The report definition (identity, purpose, audience, frequency, data source, columns) this
    version is about: what the parties agree to, kept as it was."""
    reason: str
    recorded_by: str
    recorded_at: datetime

    def as_record(self) -> dict[str, Any]:
        """The version as plain values (lists, dicts): its stored row and its API body alike."""
        return {
            "report": self.report,
            "version": self.version,
            "status": self.status,
            "owner": self.owner,
            "agreed_with": list(self.agreed_with),
            "agreed_at": self.agreed_at,
            "distribution_list": [d.as_json() for d in self.distribution_list],
            "definition": dict(self.definition),
            "reason": self.reason,
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at,
        }


def recipient_problem(channel: str, recipient: str) -> str | None:
    """Why a recipient cannot be reached by its channel, or None when it can."""
    if channel not in CHANNELS:
        return f"unknown channel {channel!r}; one of: {', '.join(CHANNELS)}"
    parts = urlsplit(recipient)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "a webhook recipient is an absolute http:// or https:// URL"
    if parts.username is not None or parts.password is not None:
        return "put no credentials in the URL (the agreement is readable by every reader)"
    if parts.fragment:
        return "a webhook URL has no #fragment"
    return None


def check_distribution_list(entries: Sequence[Recipient]) -> None:
    """422 naming the first bad entry's field (`distribution_list.<i>.channel|recipient`)."""
    errors: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(entries):
        if entry.channel not in CHANNELS:
            errors.append((f"distribution_list.{i}.channel", recipient_problem(entry.channel, entry.recipient) or ""))
            continue
        problem = recipient_problem(entry.channel, entry.recipient)
        if problem is not None:
            errors.append((f"distribution_list.{i}.recipient", problem))
        elif (entry.channel, entry.recipient) in seen:
            errors.append((f"distribution_list.{i}.recipient", "listed twice"))
        seen.add((entry.channel, entry.recipient))
    if errors:
        raise RuleViolation.of_fields(errors)


def in_force(versions: Sequence[AgreementVersion]) -> AgreementVersion | None:
    """The latest version that is not a draft (agreed or retired), or None."""
    for v in sorted(versions, key=lambda v: v.version, reverse=True):
        if v.status != "draft":
            return v
    return None


def scheduled(versions: Sequence[AgreementVersion]) -> AgreementVersion | None:
    """The agreed version a report is produced and distributed under; None: not scheduled."""
    found = in_force(versions)
    return found if found is not None and found.status == "agreed" else None


def allowed_actions(latest: AgreementVersion | None) -> list[str]:
    if latest is None or latest.status == "retired":
        return ["propose"]
    if latest.status == "draft":
        return ["agree", "propose", "retire"]
    return ["propose", "retire"]


def _check(action: str, latest: AgreementVersion | None, report: str) -> AgreementVersion:
    if latest is None:
        raise NotFound(f"report {report!r} has no agreement yet; propose one first (PUT .../agreement)")
    if action not in allowed_actions(latest):
        raise InvalidTransition(action, latest.status, allowed_actions(latest))
    return latest


def propose(
    latest: AgreementVersion | None,
    *,
    report: str,
    owner: str,
    agreed_with: Sequence[str],
    distribution_list: Sequence[Recipient],
    definition: Mapping[str, Any],
    reason: str,
    by: str,
    at: datetime,
) -> AgreementVersion:
    """A new draft version: a first proposal, or a revision of any earlier version."""
    check_distribution_list(distribution_list)
    return AgreementVersion(
        report=report,
        version=1 if latest is None else latest.version + 1,
        status="draft",
        owner=owner,
        agreed_with=tuple(agreed_with),
        agreed_at=None,
        distribution_list=tuple(distribution_list),
        definition=dict(definition),
        reason=reason,
        recorded_by=by,
        recorded_at=at,
    )


def agree(
    latest: AgreementVersion | None,
    *,
    report: str,
    agreed_with: Sequence[str] | None,
    agreed_at: datetime | None,
    reason: str,
    by: str,
    at: datetime,
) -> AgreementVersion:
    """The draft, agreed with the named parties: a new version, in force from now on."""
    draft = _check("agree", latest, report)
    parties = tuple(agreed_with) if agreed_with is not None else draft.agreed_with
    if not parties:
        raise RuleViolation("name the interested parties the report was agreed with", field="agreed_with")
    when = agreed_at or at
    if when > at:
        raise RuleViolation("an agreement cannot be dated in the future", field="agreed_at")
    return replace(
        draft,
        version=draft.version + 1,
        status="agreed",
        agreed_with=parties,
        agreed_at=when,
        reason=reason,
        recorded_by=by,
        recorded_at=at,
    )


def retire(latest: AgreementVersion | None, *, report: str, reason: str, by: str, at: datetime) -> AgreementVersion:
    """The report is no longer produced: a new version, retired."""
    current = _check("retire", latest, report)
    if not reason:
        raise RuleViolation("say why the report is retired", field="reason")
    return replace(
        current, version=current.version + 1, status="retired", reason=reason, recorded_by=by, recorded_at=at
    )


# Run content


def canonical_json(body: Mapping[str, Any]) -> bytes:
    """The bytes a run's content hash is taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_sha256(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()
