"""Standard change template routes: the pre-approved models, and standard changes made from them."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Response

from services.change.api.deps import POLICY, Caller, CurrentTemplate, GovernanceDep
from services.change.schemas.changes import ChangeRead
from services.change.schemas.templates import TemplateChangeCreate, TemplateCreate, TemplateRead, TemplateUpdate
from services.change.store.templates import list_templates as query_templates
from services.change.usecases import templates as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import RequiredIfMatch
from shared.http import created, expected_version, tagged

router = APIRouter(prefix="/api/v1/templates", tags=["templates"], dependencies=[Depends(POLICY.enforce)])


@router.post("", status_code=201, response_model=TemplateRead)
async def create_template(body: TemplateCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> TemplateRead:
    template = await usecases.create_template(body.fields(), who.subject, uow)
    return created(response, f"{router.prefix}/{template.id}", template.version, TemplateRead.of(template))


@router.get("", response_model=list[TemplateRead])
async def list_templates(conn: ReadConnectionDep, active: bool | None = None) -> list[TemplateRead]:
    return [TemplateRead.of(t) for t in await query_templates(conn, active=active)]


@router.get("/{template_id}", response_model=TemplateRead)
async def get_template(template: CurrentTemplate, response: Response) -> TemplateRead:
    return tagged(response, template.version, TemplateRead.of(template))


@router.patch("/{template_id}", response_model=TemplateRead)
async def update_template(
    template_id: UUID,
    body: TemplateUpdate,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> TemplateRead:
    template = await usecases.update_template(template_id, body.fields(), expected_version(if_match), uow)
    return tagged(response, template.version, TemplateRead.of(template))


@router.delete("/{template_id}", status_code=204)
async def delete_template(template_id: UUID, uow: UnitOfWorkDep) -> Response:
    await usecases.delete_template(template_id, uow)
    return Response(status_code=204)


@router.post("/{template_id}/changes", status_code=201, response_model=ChangeRead)
async def change_from_template(
    template_id: UUID,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    governance: GovernanceDep,
    body: TemplateChangeCreate | None = None,
) -> ChangeRead:
    request = (body or TemplateChangeCreate()).request()
    item = await usecases.change_from_template(
        template_id, request, requester=who.subject, uow=uow, governance=governance
    )
    return created(response, f"/api/v1/changes/{item.id}", item.version, ChangeRead.of(item))
