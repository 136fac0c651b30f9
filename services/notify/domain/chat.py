"""Chat channels as pure rules: what a Slack or Microsoft Teams incoming webhook is sent for one
event. A subscription's `channel` says which: `webhook` (the signed CloudEvent), `slack` (a
message with `text` and Block Kit `blocks`) or `teams` (a MessageCard). The title and text come
from the subscription's template (its subject and plain-text part), or, without one, from the
event's type, subject and the usual fields of its data."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

SLACK_HEADER_MAX = 150
"""Slack's limit on a header block's text."""
SLACK_SECTION_MAX = 3000
"""Slack's limit on a section block's text."""
TEAMS_TEXT_MAX = 20_000
SUMMARY_FIELDS = ("number", "ticket_number", "title", "status", "priority", "assignment_group", "assignee")


class Channel(StrEnum):
    WEBHOOK = "webhook"
    """The event as a signed CloudEvent (structured mode, Standard Webhooks headers)."""
    SLACK = "slack"
    """A Slack incoming-webhook message."""
    TEAMS = "teams"
    """A Microsoft Teams incoming-webhook MessageCard."""


def summary(event_type: str, subject: str | None, data: Any) -> tuple[str, str]:
    """(title, text) for an event without a template: its type and subject, and the usual fields."""
    title = event_type.removeprefix("itsm.") + (f" {subject}" if subject else "")
    lines = []
    if isinstance(data, dict):
        lines = [f"{name}: {data[name]}" for name in SUMMARY_FIELDS if data.get(name) not in (None, "")]
    return title, "\n".join(lines) or event_type


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_escape(text: str) -> str:
    """Slack's mrkdwn escaping: `&`, `<` and `>` (else `<...>` is read as a link or mention)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(title: str, text: str) -> dict[str, Any]:
    """`text` (the notification's fallback) and `blocks`: a header and a section."""
    body = slack_escape(text.strip())
    return {
        "text": _cut(f"{slack_escape(title)}\n{body}", SLACK_SECTION_MAX),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _cut(title, SLACK_HEADER_MAX)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(body or " ", SLACK_SECTION_MAX)}},
        ],
    }


def teams_message(title: str, text: str) -> dict[str, Any]:
    """A legacy actionable MessageCard, which Teams' incoming webhooks (and Workflows) accept."""
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": _cut(title, 200),
        "themeColor": "0076D7",
        "title": title,
        "text": _cut(text.strip().replace("\n", "  \n"), TEAMS_TEXT_MAX),  # markdown line breaks
    }


def chat_message(channel: Channel, title: str, text: str) -> dict[str, Any]:
    if channel is Channel.SLACK:
        return slack_message(title, text)
    if channel is Channel.TEAMS:
        return teams_message(title, text)
    raise ValueError(f"{channel} is not a chat channel")
