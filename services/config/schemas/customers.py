"""API bodies of the customer registry (ISO/IEC 20000-1 6.1, 7.1)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from services.config.domain.customers import Contact, Customer
from shared.http import ApiModel, Page, UpdateModel

Name = Annotated[str, Field(min_length=1, max_length=200)]
GroupName = Annotated[str, Field(min_length=1, max_length=100)]
MAX_ITEMS = 50


class ContactBody(ApiModel):
    name: Name
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    role: str | None = Field(default=None, max_length=100, examples=["service owner"])

    def to_domain(self) -> Contact:
        return Contact(self.name, self.email, self.role)


class CustomerCreate(ApiModel):
    name: Name = Field(examples=["Acme Retail"])
    relationship_manager: Name = Field(description="Who manages the relationship (escalations go to them)")
    contacts: list[ContactBody] = Field(default_factory=list, max_length=MAX_ITEMS)
    service_ids: list[UUID] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="The catalogue's business services it consumes"
    )
    user_groups: list[GroupName] = Field(default_factory=list, max_length=MAX_ITEMS)
    interested_parties: list[Name] = Field(default_factory=list, max_length=MAX_ITEMS)
    review_interval_days: int = Field(default=365, ge=1, le=3650, description="How often the relationship is reviewed")
    next_review: date | None = Field(default=None, description="By default one interval from today")

    def values(self) -> dict[str, Any]:
        return {
            **self.model_dump(exclude={"contacts", "service_ids", "user_groups", "interested_parties"}),
            "contacts": tuple(c.to_domain() for c in self.contacts),
            "service_ids": tuple(self.service_ids),
            "user_groups": tuple(self.user_groups),
            "interested_parties": tuple(self.interested_parties),
        }


class CustomerUpdate(UpdateModel):
    """Only the fields sent change; a list sent replaces the list."""

    required_on_record = (
        "name",
        "relationship_manager",
        "contacts",
        "service_ids",
        "user_groups",
        "interested_parties",
        "review_interval_days",
        "next_review",
    )

    name: Name | None = None
    relationship_manager: Name | None = None
    contacts: list[ContactBody] | None = Field(default=None, max_length=MAX_ITEMS)
    service_ids: list[UUID] | None = Field(default=None, max_length=MAX_ITEMS)
    user_groups: list[GroupName] | None = Field(default=None, max_length=MAX_ITEMS)
    interested_parties: list[Name] | None = Field(default=None, max_length=MAX_ITEMS)
    review_interval_days: int | None = Field(default=None, ge=1, le=3650)
    next_review: date | None = None

    def values(self) -> dict[str, Any]:
        sent = self.model_dump(exclude_unset=True)
        for name in ("service_ids", "user_groups", "interested_parties"):
            if name in sent:
                sent[name] = tuple(getattr(self, name))
        if "contacts" in sent:
            sent["contacts"] = tuple(c.to_domain() for c in self.contacts or ())
        return sent


class CustomerReview(ApiModel):
    reviewed_on: date = Field(description="The day the relationship review was held")


class ContactRead(ApiModel):
    name: str
    email: str | None
    role: str | None


class CustomerRead(ApiModel):
    id: UUID
    number: str = Field(examples=["CUS0000001"])
    name: str
    relationship_manager: str
    contacts: list[ContactRead]
    service_ids: list[UUID]
    user_groups: list[str]
    interested_parties: list[str]
    review_interval_days: int
    next_review: date
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: Customer) -> CustomerRead:
        contacts = [ContactRead(name=c.name, email=c.email, role=c.role) for c in record.contacts]
        return cls.from_record(
            record,
            contacts=contacts,
            service_ids=list(record.service_ids),
            user_groups=list(record.user_groups),
            interested_parties=list(record.interested_parties),
        )


CustomerPage = Page[CustomerRead]
