"""Standard change template use cases: the pre-approved models, and standard changes made from them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.change import events
from services.change.domain.changes import Change, ChangeType
from services.change.domain.templates import ChangeTemplate, TemplateChange
from services.change.store import templates as store
from services.change.store.changes import ChangeRepository, KnownCIs
from services.change.usecases.changes import DEFAULT_GOVERNANCE, Governance, services_of_change
from shared import clock
from shared.errors import Conflict, NotFound, PreconditionFailed, RuleViolation
from shared.numbering import format_number
from shared.uow import AnyUnitOfWork


async def create_template(fields: Mapping[str, Any], actor: str, uow: AnyUnitOfWork) -> ChangeTemplate:
    template = ChangeTemplate.create(template_id=uuid4(), actor=actor, now=clock.now(), **fields)
    async with uow:
        await store.add_template(uow.connection, template)
        await uow.commit()
    return template


async def update_template(
    template_id: UUID, fields: Mapping[str, Any], expected_version: int, uow: AnyUnitOfWork
) -> ChangeTemplate:
    async with uow:
        template = await store.get_template(uow.connection, template_id, for_update=True)
        if template is None:
            raise NotFound(f"template {template_id} does not exist")
        if template.version != expected_version:
            raise PreconditionFailed(f"template {template.name!r} is at version {template.version}")
        template.update(clock.now(), **fields)
        await store.save_template(uow.connection, template, expected_version)
        await uow.commit()
    return template


async def delete_template(template_id: UUID, uow: AnyUnitOfWork) -> None:
    async with uow:
        if await store.get_template(uow.connection, template_id) is None:
            raise NotFound(f"template {template_id} does not exist")
        if await store.template_in_use(uow.connection, template_id):
            raise Conflict("changes were made from this template: retire it (active: false) instead of deleting it")
        await store.delete_template(uow.connection, template_id)
        await uow.commit()


async def standard_change(
    conn: AsyncConnection,
    template: ChangeTemplate,
    request: TemplateChange,
    requester: str,
    now: datetime,
    governance: Governance,
) -> Change:
    """A standard change from the template, submitted and so approved (the pre-approved model
    skips the CAB), written but not committed. Its CIs and services are checked against the CI
    read model as any change's, and the services of its CIs are added to its own: they must lie
    within the template's service (a 422 naming `service_ids` otherwise)."""
    if not template.active:
        raise Conflict(f"the template {template.name!r} is retired: no new changes are made from it")
    changes = ChangeRepository(conn)
    start = request.planned_start or now
    named = request.service_ids or ((template.service_id,) if template.service_id else ())
    services = await services_of_change(
        KnownCIs(conn), governance, affected_ci_ids=request.affected_ci_ids, service_ids=named
    )
    item = Change.draft(
        change_id=uuid4(),
        number=format_number("CHG", await changes.next_number()),
        title=request.title or template.name,
        description=request.description if request.description is not None else template.description,
        justification=request.justification or f"standard change from the pre-approved template {template.name!r}",
        change_type=ChangeType.STANDARD,
        category=template.category,
        requester=requester,
        planned_start=start,
        planned_end=request.planned_end or start + template.default_duration,
        affected_ci_ids=request.affected_ci_ids,
        now=now,
        planned_ci_changes=request.planned_ci_changes,
        service_ids=services,
        template_id=template.id,
        implementation_plan=template.implementation_plan,
        backout_plan=template.backout_plan,
        test_plan=template.test_plan,
    )
    if problems := template.out_of_scope(item.service_ids):
        raise RuleViolation.of_fields(problems)
    item.submit(requester, now, pre_approved=True)
    await changes.add(item)
    return item


async def change_from_template(
    template_id: UUID,
    request: TemplateChange,
    *,
    requester: str,
    uow: AnyUnitOfWork,
    governance: Governance = DEFAULT_GOVERNANCE,
    named_by: str | None = None,
) -> Change:
    """`named_by`: the body field naming the template (an unknown one is a 422 naming it); None when
    the path names it (a 404)."""
    async with uow:
        template = await store.get_template(uow.connection, template_id)
        if template is None and named_by is not None:
            raise RuleViolation(f"template {template_id} does not exist", field=named_by)
        if template is None:
            raise NotFound(f"template {template_id} does not exist")
        item = await standard_change(uow.connection, template, request, requester, clock.now(), governance)
        uow.emit_pending(item, events.to_contract)
        await uow.commit()
    return item
