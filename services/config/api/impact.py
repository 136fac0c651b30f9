"""CMDB routes, impact analysis: what a CI's failure affects (downstream) or what could make it
fail (upstream), written straight to JSON (byte for byte the `ImpactRead` model's, or with
`view=compact` the `ImpactPage` model's: ids and distances, paged)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Annotated, Final
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.config.api.deps import POLICY, CurrentItem
from services.config.domain.impact import MAX_DEPTH, PAGE_DEFAULT, PAGE_MAX, Arrival, Direction
from services.config.domain.items import ConfigItem
from services.config.domain.relationships import INVERSE_NAMES
from services.config.domain.types import BUSINESS_SERVICE
from services.config.schemas.impact import ImpactPage, ImpactRead, ImpactView
from services.config.store.impact import Summary, reached
from services.config.store.impact import impact as walk_with_summaries
from shared.app import ReadConnectionDep
from shared.deps import MAX_OFFSET

router = APIRouter(prefix="/api/v1", tags=["cmdb"], dependencies=[Depends(POLICY.enforce)])


@router.get("/cis/{ci_id}/impact", response_model=ImpactRead | ImpactPage, tags=["relationships"])
async def impact(
    conn: ReadConnectionDep,
    root: CurrentItem,
    direction: Direction = Direction.DOWNSTREAM,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 3,
    view: Annotated[
        ImpactView,
        Query(
            description="`full`: every CI reached with its summary and path, and the business services"
            " (`ImpactRead`, not paged); `compact`: ids and distances only, a page at a time (`ImpactPage`)"
        ),
    ] = ImpactView.FULL,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX, description="`compact` only: CIs per page")] = PAGE_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="`compact` only: CIs to skip")] = 0,
) -> Response:
    if view is ImpactView.COMPACT:
        found = await reached(conn, root.id, direction, depth)
        return Response(_page_json(root.id, direction, depth, found, limit, offset), media_type="application/json")
    arrivals, summaries = await walk_with_summaries(conn, root.id, direction, depth)
    return Response(_impact_json(root, direction, depth, arrivals, summaries), media_type="application/json")


def _page_json(
    root: UUID, direction: Direction, depth: int, found: Sequence[tuple[UUID, int]], limit: int, offset: int
) -> bytes:
    """The `ImpactPage` of a compact walk as JSON (what the model gives; tests/config hold it to that)."""
    items = ",".join(f'{{"id":"{ci}","distance":{distance}}}' for ci, distance in found[offset : offset + limit])
    return (
        f'{{"root_id":"{root}","direction":"{direction.value}","depth":{depth},"items":[{items}],'
        f'"total":{len(found)},"limit":{limit},"offset":{offset}}}'
    ).encode()


def _impact_json(
    root: ConfigItem,
    direction: Direction,
    depth: int,
    arrivals: Sequence[Arrival],
    found: Mapping[UUID, Summary],
) -> bytes:
    """The `ImpactRead` of a walk as JSON, byte for byte what FastAPI sends for the model
    (tests/config/unit/test_impact_answer.py holds it to that), written without a model per CI
    and per step: an answer holds every reached CI that exists (`found`) with
    its whole path, paths share their beginnings (a path is the one to the CI its last step comes
    from, plus that step), so each summary and each path is written once and reused."""
    ids: dict[UUID, str] = {}

    def text_of(value: UUID) -> str:
        written = ids.get(value)
        if written is None:
            written = ids[value] = str(value)
        return written

    def summary(ci_id: UUID, number: str, name: str, ci_type: str, status: str, criticality: int) -> str:
        return (
            f'{{"id":"{text_of(ci_id)}","number":{_string(number)},"name":{_string(name)},"type":{_string(ci_type)},'
            f'"status":{_string(status)},"criticality":{int(criticality)}}}'
        )

    paths: dict[UUID, str] = {root.id: ""}
    affected: list[str] = []
    services: list[str] = []
    # Nearest first, then by id (as the walk orders them): a CI's path is written after the one it extends.
    for a in sorted(arrivals, key=lambda a: (a.distance, a.ci_id.int)):
        read_as = INVERSE_NAMES[a.type] if a.relationship_reversed else a.type.value
        step = (
            f'{{"from_id":"{text_of(a.from_id)}","to_id":"{text_of(a.ci_id)}",'
            f'"relationship":"{a.type.value}","read_as":"{read_as}"}}'
        )
        before = paths[a.from_id]
        path = paths[a.ci_id] = f"{before},{step}" if before else step
        if (row := found.get(a.ci_id)) is not None:
            ci = summary(row.id, row.number, row.name, row.type, row.status, row.criticality)
            affected.append(f'{{"ci":{ci},"distance":{a.distance},"path":[{path}]}}')
            if row.type == BUSINESS_SERVICE:
                services.append(ci)
    head = summary(root.id, root.number, root.name, root.ci_type, root.status.value, root.criticality)
    return (
        f'{{"root":{head},"direction":"{direction.value}","depth":{depth},'
        f'"affected":[{",".join(affected)}],"business_services":[{",".join(services)}]}}'
    ).encode()


# Unicode's White_Space characters, which the models strip from the ends of strings (`ApiModel`).
_WHITESPACE: Final = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)


def _string(value: str) -> str:
    """A string as the models give it: stripped, then written as pydantic writes it (UTF-8 as it
    is; only quotes, backslashes and control characters escaped: `json.dumps(ensure_ascii=False)`)."""
    return encode_basestring(value.strip(_WHITESPACE))
