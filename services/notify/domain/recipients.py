"""Who a notification rule tells, as pure rules: the kinds of recipient a rule may name (a field of
the event, a fixed address, a group, a role, the CAB, a supplier's contacts, a customer's
relationship managers), how each is checked, and how a rule's recipients become addresses from
the event's data and the directory's people.

The directory (people with their address, groups, roles, and the suppliers and customers they
speak for) is owned by notify and kept by administrators: no event of the suite says who is in
which group or on the CAB, who a supplier's contact is or who manages a customer (see
docs/notifications.md, "Recipients")."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.notify.domain.subscriptions import field_value
from shared.errors import RuleViolation

RECIPIENT_FIELD = re.compile(r"^data(\.[a-z0-9_]{1,64}){1,5}$")
ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")
USER_NAME = re.compile(r"^[A-Za-z0-9._+-]{1,64}$")
NAME = USER_NAME
MAX_RECIPIENTS = 10
MAX_FIELD_VALUES = 50
"""At most this many values of a field holding a list are read (a report's parties are at most 50)."""
CAB_ROLE = "cab"


class Kind(StrEnum):
    FIELD = "field"
    """`value`: a field of the event's data (`data.caller`) holding a user name or an address, or a
    list of them (`data.agreed_with`): each one that stands for an address."""
    ADDRESS = "address"
    """`value`: a fixed e-mail address (a team mailbox)."""
    GROUP = "group"
    """`value`: a group's name (`network`), or a field naming it (`data.assignment_group`)."""
    ROLE = "role"
    """`value`: a role's name (`service_owner`): everyone in the directory with that role."""
    CAB = "cab"
    """No value: the directory's people with the role `cab` (the change advisory board)."""
    SUPPLIER_CONTACT = "supplier_contact"
    """`value`: the field holding the supplier's id (default `data.supplier_id`)."""
    RELATIONSHIP_MANAGER = "relationship_manager"
    """`value`: the field holding the customer (default `data.customer_id`)."""


DEFAULT_VALUE = {Kind.SUPPLIER_CONTACT: "data.supplier_id", Kind.RELATIONSHIP_MANAGER: "data.customer_id"}
FIELD_KINDS = {Kind.FIELD, Kind.SUPPLIER_CONTACT, Kind.RELATIONSHIP_MANAGER}


@dataclass(frozen=True)
class Recipient:
    kind: Kind
    value: str = ""

    @classmethod
    def of(cls, kind: str, value: str | None = None) -> Recipient:
        """A checked recipient, or RuleViolation naming `recipients`."""
        try:
            k = Kind(kind)
        except ValueError:
            raise RuleViolation(f"{kind[:40]!r} is not a recipient kind", field="recipients") from None
        text = (value or DEFAULT_VALUE.get(k, "")).strip()
        if k in FIELD_KINDS or (k is Kind.GROUP and text.startswith("data.")):
            ok = bool(RECIPIENT_FIELD.match(text))
        elif k is Kind.ADDRESS:
            ok = bool(ADDRESS.match(text))
        elif k in (Kind.GROUP, Kind.ROLE):
            ok = bool(NAME.match(text))
        else:
            ok, text = not text, ""
        if not ok:
            raise RuleViolation(f"{text[:80]!r} is not a value for a {k.value} recipient", field="recipients")
        return cls(k, text)


def check_recipients(recipients: Sequence[Recipient]) -> list[Recipient]:
    if not recipients or len(recipients) > MAX_RECIPIENTS:
        raise RuleViolation(f"a rule names 1 to {MAX_RECIPIENTS} recipients", field="recipients")
    return list(recipients)


def from_fields(fields: Iterable[str]) -> list[Recipient]:
    """The recipients of a rule given as `recipient_fields` (the first form of a rule)."""
    return [Recipient(Kind.FIELD, f) for f in fields]


@dataclass(frozen=True)
class Person:
    username: str
    address: str
    name: str = ""
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    suppliers: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    locale: str = "en"
    time_zone: str = "UTC"
    quiet_start: str | None = None
    """Quiet hours, local `HH:MM` in `time_zone` (both or neither)."""
    quiet_end: str | None = None
    digest: str = "off"
    """`off`, `hourly` or `daily` (see `preferences.Digest`)."""


def address_of(value: Any, recipient_domain: str) -> str | None:
    """The e-mail address a recipient field's value stands for: the value itself when it is an
    address; a user name with `recipient_domain` added when that is set; else none."""
    if not isinstance(value, str):
        return None
    text: str = value.strip()
    if ADDRESS.match(text):
        return text
    if recipient_domain and USER_NAME.match(text):
        return f"{text}@{recipient_domain}"
    return None


def _text(value: Any) -> str | None:
    return str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None


def people_for(recipient: Recipient, data: Any, people: Sequence[Person], recipient_domain: str) -> list[str]:
    """The addresses one recipient stands for in an event's `data`, with the directory `people`."""

    def path(name: str) -> Any:
        return field_value(data, name.removeprefix("data.")) if isinstance(data, dict) else None

    match recipient.kind:
        case Kind.ADDRESS:
            return [recipient.value]
        case Kind.FIELD:
            value = path(recipient.value)
            values = value[:MAX_FIELD_VALUES] if isinstance(value, list) else [value]
            found = []
            for one in values:
                known = [p.address for p in people if isinstance(one, str) and p.username == one.strip()]
                address = known[0] if known else address_of(one, recipient_domain)
                if address:
                    found.append(address)
            return found
        case Kind.GROUP:
            group = _text(path(recipient.value)) if recipient.value.startswith("data.") else recipient.value
            return [p.address for p in people if group and group in p.groups]
        case Kind.ROLE | Kind.CAB:
            role = recipient.value or CAB_ROLE
            return [p.address for p in people if role in p.roles]
        case Kind.SUPPLIER_CONTACT:
            supplier = _text(path(recipient.value))
            return [p.address for p in people if supplier and supplier in p.suppliers]
        case Kind.RELATIONSHIP_MANAGER:
            customer = _text(path(recipient.value))
            return [p.address for p in people if customer and customer in p.customers]
    return []  # pragma: no cover - every kind is matched above


def addresses(recipients: Sequence[Recipient], data: Any, people: Sequence[Person], recipient_domain: str) -> list[str]:
    """The distinct addresses (case-insensitive) of `recipients`, in their order."""
    found: list[str] = []
    seen: set[str] = set()
    for recipient in recipients:
        for address in people_for(recipient, data, people, recipient_domain):
            if address.lower() not in seen:
                seen.add(address.lower())
                found.append(address)
    return found


def needs_directory(recipients: Sequence[Recipient]) -> bool:
    """Whether resolving needs the directory: every kind but a fixed address may (a field's user
    name is looked up there before the domain setting applies)."""
    return any(r.kind is not Kind.ADDRESS for r in recipients)
