"""API bodies of notification rules (create, read, page) and of the e-mail delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from services.notify.domain.notifications import MessageStatus, Rule
from services.notify.domain.preferences import Digest
from services.notify.domain.recipients import Kind
from services.notify.schemas.subscriptions import FieldPath, FilterValue
from shared.http import ApiModel, Page

RecipientField = Annotated[
    str, StringConstraints(min_length=6, max_length=200, pattern=r"^data(\.[a-z0-9_]{1,64}){1,5}$")
]


class RecipientIn(ApiModel):
    kind: Kind
    value: str = Field(
        default="",
        max_length=320,
        description="field: `data.<path>`; address: an e-mail address; group: a group's name or `data.<path>`"
        " naming it; role: a role's name; cab: empty; supplier_contact / relationship_manager: the `data.<path>`"
        " of the supplier's id / the customer (defaults `data.supplier_id` / `data.customer_id`)",
    )


class RuleCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200, description="Unique; what the rule is for")
    event_pattern: str = Field(
        min_length=1,
        max_length=255,
        examples=["incident.resolved.v1", "change.*.v1"],
        description="Routing keys the rule reacts to, in AMQP topic syntax: `*` one word, `#` zero or more",
    )
    data_filter: dict[FieldPath, FilterValue] = Field(
        default_factory=dict,
        max_length=20,
        examples=[{"priority": 1}],
        description="Only events whose data has each of these fields (a dotted path) with this value",
    )
    template: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[a-z0-9_]+$",
        examples=["incident_resolved"],
        description="The template's name: its files `<name>.subject.txt`, `<name>.txt`, `<name>.html`",
    )
    recipient_fields: list[RecipientField] = Field(
        default_factory=list,
        max_length=10,
        examples=[["data.caller"]],
        description="Fields of the event's data holding who to tell: an e-mail address, or a user name"
        " (looked up in the directory, else `NOTIFY_MAIL_RECIPIENT_DOMAIN` is added)",
    )
    recipients: list[RecipientIn] = Field(
        default_factory=list,
        max_length=10,
        examples=[[{"kind": "group", "value": "data.assignment_group"}, {"kind": "cab"}]],
        description="Who to tell, by kind (field, address, group, role, cab, supplier_contact,"
        " relationship_manager); a rule names at least one recipient here or in `recipient_fields`",
    )
    mandatory: bool = Field(
        default=False, description="Mandatory mail cannot be unsubscribed, put in a digest or held for quiet hours"
    )
    enabled: bool = True


class RuleRead(ApiModel):
    id: UUID
    name: str
    event_pattern: str
    data_filter: dict[str, FilterValue]
    template: str
    recipient_fields: list[str]
    recipients: list[RecipientIn]
    mandatory: bool
    enabled: bool
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, rule: Rule) -> Self:
        return cls.from_record(rule, recipients=[RecipientIn(kind=t.kind, value=t.value) for t in rule.targets])


UserName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._+-]+$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._+:-]+$")]


class PersonPut(ApiModel):
    name: str = Field(default="", max_length=200)
    address: str = Field(
        min_length=3, max_length=320, pattern=r"^[^@\s]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"
    )
    groups: list[Label] = Field(default_factory=list, max_length=50, description="Assignment groups")
    roles: list[Label] = Field(default_factory=list, max_length=50, description="e.g. cab, contract_manager")
    suppliers: list[Label] = Field(
        default_factory=list, max_length=50, description="Ids of the suppliers this person is a contact of"
    )
    customers: list[Label] = Field(
        default_factory=list, max_length=50, description="Customers this person is the relationship manager of"
    )
    locale: str = Field(default="en", pattern=r"^[a-z]{2}(_[A-Z]{2})?$", description="Templates' locale folder")
    time_zone: str = Field(default="UTC", max_length=64, description="An IANA time zone (Europe/Berlin)")
    quiet_start: str | None = Field(
        default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="Quiet hours from (HH:MM, local)"
    )
    quiet_end: str | None = Field(
        default=None,
        validate_default=True,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Quiet hours until (HH:MM, local; before quiet_start: over midnight). Mail of"
        " non-mandatory rules is held until then",
    )

    digest: Digest = Field(
        default=Digest.OFF,
        description="Mail of non-mandatory rules gathered into one message per period: `hourly` (at the"
        " next full hour), `daily` (08:00 local) or `weekly` (Monday 08:00 local); `off` sends each message",
    )

    @field_validator("quiet_end")
    @classmethod
    def _both(cls, value: str | None, info: ValidationInfo) -> str | None:
        if (value is None) != (info.data.get("quiet_start") is None):
            raise ValueError("quiet hours need both quiet_start and quiet_end")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value[:64]!r} is not an IANA time zone") from None
        return value


class PersonRead(PersonPut):
    username: str
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls.from_record(row)


PersonPage = Page[PersonRead]


RulePage = Page[RuleRead]


class MessageRead(ApiModel):
    id: UUID
    rule_id: UUID
    event_id: UUID
    event_type: str
    recipient: str
    subject: str
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime | None
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime
    digest: bool = Field(description="Waits for (or was sent in) the recipient's digest")
    desk: str | None = Field(
        default=None, description="The service desk it goes from (NOTIFY_MAIL_DESKS); null: the default desk"
    )
    mail_from: str | None = Field(
        default=None, description="Its desk's From; null: the default desk's (NOTIFY_MAIL_FROM)"
    )

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls.from_record(row, status=MessageStatus(row.status), desk=row.desk_name)


MessagePage = Page[MessageRead]
