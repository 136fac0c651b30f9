"""What the CMDB publishes: its domain events turned into the published contracts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from services.config.domain.agreements import Agreement, AgreementStatus
from services.config.domain.items import Cause, ConfigItem, ItemEvent, ItemRegistered, ItemRetired, ItemUpdated
from services.config.domain.relationships import Relationship
from shared.events import EventData
from shared.events import config as contracts
from shared.events.agreement import AgreementAgreed, AgreementRetired, AgreementSuperseded, AgreementTarget


def _cause(cause: Cause) -> contracts.Cause:
    return contracts.Cause(kind=cause.kind, reference=cause.reference, actor=cause.actor)


def to_contract(event: ItemEvent, item: ConfigItem) -> EventData:
    if isinstance(event, ItemRegistered):
        return contracts.ConfigItemCreated.from_record(
            item,
            ci_id=item.id,
            type=item.ci_type,
            status=item.status.value,
            criticality=int(item.criticality),
            cause=_cause(event.cause),
            identifiers=_identifiers(item),
        )
    if isinstance(event, ItemUpdated):
        return contracts.ConfigItemUpdated.from_record(
            item,
            ci_id=item.id,
            type=item.ci_type,
            status=item.status.value,
            criticality=int(item.criticality),
            changes=event.changes,
            cause=_cause(event.cause),
            identifiers=_identifiers(item),
        )
    assert isinstance(event, ItemRetired)
    return contracts.ConfigItemRetired(
        ci_id=item.id, number=item.number, version=item.version, cause=_cause(event.cause), retired_at=item.updated_at
    )


def _identifiers(item: ConfigItem) -> contracts.Identifiers:
    ids = item.identifiers
    return contracts.Identifiers(serial=ids.serial, hostname=ids.hostname, fqdn=ids.fqdn, cloud_id=ids.cloud_id)


def relationship_changed(
    relationship: Relationship, action: Literal["added", "removed"], cause: Cause, now: datetime
) -> EventData:
    return contracts.ConfigItemRelationshipChanged(
        relationship_id=relationship.id,
        action=action,
        source_id=relationship.source_id,
        type=relationship.type.value,
        target_id=relationship.target_id,
        target_kind=relationship.target_kind,
        cause=_cause(cause),
        occurred_at=now,
    )


def agreement_moved(
    agreement: Agreement, customer_name: str | None, actor: str, *, supersedes: UUID | None = None
) -> EventData:
    """An agreement version agreed, superseded or retired, with its terms."""
    values: dict[str, Any] = {
        "agreement_id": agreement.id,
        "kind": agreement.kind.value,
        "status": agreement.status.value,
        "customer_name": customer_name,
        "service_ids": list(agreement.service_ids),
        "targets": [AgreementTarget(**asdict(t)) for t in agreement.targets],
        "exclusions": list(agreement.exclusions),
        "actor": actor,
        "occurred_at": agreement.updated_at,
    }
    if agreement.status is AgreementStatus.AGREED:
        return AgreementAgreed.from_record(agreement, **values, supersedes=supersedes)
    if agreement.status is AgreementStatus.SUPERSEDED:
        assert agreement.superseded_by is not None
        return AgreementSuperseded.from_record(agreement, **values)
    return AgreementRetired.from_record(agreement, **values)
