"""Service desks as pure rules: a desk is the From and Reply-To of the mail sent about the
services and assignment groups it serves. An event's desk is chosen from its data: its
`service_id` (or, for a change, the first of its `service_ids` that a desk serves), then its
`assignment_group`; an event none of them names goes from the default desk (the `mail_from`
setting). A service or group belongs to one desk at most, so the choice never depends on order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email import policy
from typing import Any
from uuid import UUID

from services.notify.domain.recipients import ADDRESS

MAX_DESKS = 20
MAX_ENTRIES = 500
"""Services, and groups, one desk serves at most."""
MAX_NAME = 100
MAX_GROUP = 100


@dataclass(frozen=True)
class Desk:
    name: str
    sender: str
    """The From: `Name <address>` or an address."""
    reply_to: str = ""
    """The Reply-To; empty: none."""
    service_ids: frozenset[UUID] = field(default_factory=frozenset)
    assignment_groups: frozenset[str] = field(default_factory=frozenset)
    """Lower-cased: a group matches whatever its case."""


def check_mailbox(value: str) -> str:
    """`value` as given when it is one address with an optional display name
    (`Service Desk <desk@example.com>` or `desk@example.com`), else ValueError."""
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("an address holds no line breaks")
    header = policy.default.header_factory("From", value)
    addresses = header.addresses
    if header.defects or len(addresses) != 1 or not ADDRESS.match(addresses[0].addr_spec):
        raise ValueError(f"{value[:80]!r} is not one address, with an optional display name (Name <box@domain>)")
    return value


def check_desks(desks: Sequence[Desk]) -> None:
    """ValueError naming the problem when two desks share a name, a service or a group, or a desk
    serves nothing."""
    names: set[str] = set()
    owner: dict[UUID | str, str] = {}
    for desk in desks:
        if desk.name.lower() in names:
            raise ValueError(f"two desks are named {desk.name!r}: desk names are unique")
        names.add(desk.name.lower())
        if not desk.service_ids and not desk.assignment_groups:
            raise ValueError(f"desk {desk.name!r} serves nothing: give it service_ids or assignment_groups")
        served: Iterable[tuple[UUID | str, str]] = [
            *((s, f"service {s}") for s in desk.service_ids),
            *((g, f"assignment group {g!r}") for g in desk.assignment_groups),
        ]
        for key, what in served:
            if key in owner:
                raise ValueError(f"{what} belongs to desks {owner[key]!r} and {desk.name!r}: one desk only")
            owner[key] = desk.name


def _uuid(value: Any) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def desk_for(data: Any, desks: Sequence[Desk], default: Desk) -> Desk:
    """The desk of an event's data: the one serving its `service_id` (or the first of its
    `service_ids` that one serves), else the one serving its `assignment_group`, else `default`."""
    if not desks or not isinstance(data, dict):
        return default
    services = [data.get("service_id")]
    if isinstance(data.get("service_ids"), list):
        services += data["service_ids"]
    for value in services:
        service = _uuid(value)
        if service is not None:
            for desk in desks:
                if service in desk.service_ids:
                    return desk
    group = data.get("assignment_group")
    if isinstance(group, str) and group:
        for desk in desks:
            if group.lower() in desk.assignment_groups:
                return desk
    return default
