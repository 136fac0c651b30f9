"""CMDB store, impact analysis: the walk over relationships, one query per level (on PostgreSQL a
query that picks the way to each new CI itself; elsewhere the pure `ImpactWalk`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple
from uuid import UUID

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import TextClause

from services.config.domain.impact import (
    Arrival,
    Direction,
    Edge,
    ImpactWalk,
    Reached,
    check_depth,
    hop_types,
    reached_by,
)
from services.config.domain.relationships import RelationshipType
from services.config.domain.types import BUSINESS_SERVICE
from services.config.store.items import among, chunks
from services.config.store.tables import ci_relationship, config_item


async def walk(conn: AsyncConnection, root: UUID, direction: Direction, depth: int) -> list[Reached]:
    """Impact analysis from `root`, one query per level, whatever the database: on PostgreSQL each
    query follows only the relationships impact flows along and picks the way each new CI was
    first reached (`_next_level`); elsewhere `ImpactWalk` takes every relationship touching the
    level and does the rest. Both give the same result."""
    if conn.dialect.name == "postgresql":
        arrivals, _ = await _walk_in_postgresql(conn, root, direction, depth, with_summaries=False)
        return reached_by(root, arrivals)
    impact = ImpactWalk(root, direction, depth)
    while frontier := impact.frontier:
        impact.advance(await edges_touching(conn, frontier))
    return impact.result()


class Summary(NamedTuple):
    """What an impact answer shows of a CI."""

    id: UUID
    number: str
    name: str
    type: str
    status: str
    criticality: int


async def impact(
    conn: AsyncConnection, root: UUID, direction: Direction, depth: int
) -> tuple[list[Arrival], dict[UUID, Summary]]:
    """What an impact answer needs: how `walk` first reached each CI (nearest first, then by id; a
    CI's path is the path to the CI it was reached from, plus that step), and the summary of each
    reached CI that exists. On PostgreSQL the summaries come with the levels, in the same queries."""
    if conn.dialect.name == "postgresql":
        return await _walk_in_postgresql(conn, root, direction, depth, with_summaries=True)
    arrivals = [
        Arrival(r.ci_id, r.distance, r.path[-1].from_id, r.path[-1].type, r.path[-1].relationship_reversed)
        for r in await walk(conn, root, direction, depth)
    ]
    return arrivals, await summaries(conn, [a.ci_id for a in arrivals])


def _next_level(direction: Direction, *, with_summaries: bool) -> TextClause:
    """The CIs that impact reaches in one step from the CIs `:frontier`, each once, with the way
    `ImpactWalk` would take to it among several: from the lowest CI id, then by relationship type,
    source id and target id (UUIDs order here as in Python; the type by bytes, as `str` does)."""
    to_source, to_target = hop_types(direction)

    def of_types(kinds: frozenset[RelationshipType]) -> str:
        return f"r.type IN ({', '.join(repr(k.value) for k in sorted(kinds))})" if kinds else "false"

    level = f"""
        SELECT DISTINCT ON (hop.id) hop.id, hop.from_id, hop.type, hop.reversed
        FROM unnest(CAST(:frontier AS uuid[])) AS frontier(id) CROSS JOIN LATERAL (
            SELECT r.source_id AS id, frontier.id AS from_id, r.type, r.source_id, r.target_id, true AS reversed
            FROM ci_relationship AS r WHERE r.target_id = frontier.id AND {of_types(to_source)}
            UNION ALL
            SELECT r.target_id, frontier.id, r.type, r.source_id, r.target_id, false
            FROM ci_relationship AS r WHERE r.source_id = frontier.id AND {of_types(to_target)}
        ) AS hop
        ORDER BY hop.id, hop.from_id, hop.type COLLATE "C", hop.source_id, hop.target_id
    """
    if not with_summaries:
        return text(level)
    return text(
        f"""
        SELECT hop.id, hop.from_id, hop.type, hop.reversed, ci.number, ci.name, ci.type, ci.status, ci.criticality
        FROM ({level}) AS hop LEFT JOIN config_item AS ci ON ci.id = hop.id
        ORDER BY hop.id
        """
    )


_NEXT_LEVEL: Final = {
    (direction, with_summaries): _next_level(direction, with_summaries=with_summaries)
    for direction in Direction
    for with_summaries in (False, True)
}
_RELATIONSHIP_TYPES: Final = {kind.value: kind for kind in RelationshipType}


async def _walk_in_postgresql(
    conn: AsyncConnection, root: UUID, direction: Direction, depth: int, *, with_summaries: bool
) -> tuple[list[Arrival], dict[UUID, Summary]]:
    check_depth(depth)
    query, types = _NEXT_LEVEL[direction, with_summaries], _RELATIONSHIP_TYPES
    seen = {root}
    arrivals: list[Arrival] = []
    found: dict[UUID, Summary] = {}
    frontier = [root]
    for distance in range(1, depth + 1):
        # A level comes ordered by CI id; the CIs reached before are dropped here.
        result = await conn.execute(query, {"frontier": frontier})
        rows = [row for row in result.tuples().all() if row[0] not in seen]
        if not rows:
            break
        arrivals += [Arrival(row[0], distance, row[1], types[row[2]], row[3]) for row in rows]
        if with_summaries:
            for row in rows:
                if row[4] is not None:
                    found[row[0]] = Summary(row[0], row[4], row[5], row[6], row[7], row[8])
        frontier = [row[0] for row in rows]
        seen.update(frontier)
    return arrivals, found


def _next_ids(direction: Direction) -> TextClause:
    """The CIs one step from the CIs `:frontier` along the relationships impact flows along, each
    once, and whether each has a row: two index-only scans of the relationships (by target, by
    source) and one probe of the CIs' primary key per CI, no way to it chosen, no summary."""
    to_source, to_target = hop_types(direction)

    def of_types(kinds: frozenset[RelationshipType]) -> str:
        return f"r.type IN ({', '.join(repr(k.value) for k in sorted(kinds))})" if kinds else "false"

    return text(
        f"""
        SELECT hop.id, ci.id IS NOT NULL FROM (
            SELECT r.source_id AS id FROM ci_relationship AS r
            WHERE r.target_id = ANY(CAST(:frontier AS uuid[])) AND {of_types(to_source)}
            UNION
            SELECT r.target_id FROM ci_relationship AS r
            WHERE r.source_id = ANY(CAST(:frontier AS uuid[])) AND {of_types(to_target)}
        ) AS hop LEFT JOIN config_item AS ci ON ci.id = hop.id
        """
    )


_NEXT_IDS: Final = {direction: _next_ids(direction) for direction in Direction}


async def reached(conn: AsyncConnection, root: UUID, direction: Direction, depth: int) -> list[tuple[UUID, int]]:
    """The CIs `walk` reaches that exist, as (id, distance), nearest first, then by id: the same CIs
    at the same distances as `impact`'s answer, from the relationships' ids alone (no way to each
    CI is chosen). On PostgreSQL one query per level; elsewhere the level-by-level `ImpactWalk`."""
    check_depth(depth)
    if conn.dialect.name != "postgresql":
        walked = [(r.ci_id, r.distance) for r in await walk(conn, root, direction, depth)]
        existing = await existing_ids(conn, [ci for ci, _ in walked])
        found = [(ci, distance) for ci, distance in walked if ci in existing]
    else:
        query, seen, found = _NEXT_IDS[direction], {root}, []
        frontier = [root]
        for distance in range(1, depth + 1):
            # The walk goes on through a CI without a row; the answer leaves it out.
            new = [
                row for row in (await conn.execute(query, {"frontier": frontier})).tuples().all() if row[0] not in seen
            ]
            if not new:
                break
            frontier = [ci for ci, _ in new]
            seen.update(frontier)
            found += [(ci, distance) for ci, exists in new if exists]
    # UUIDs order as their text does (fixed-width hex), and comparing the integers is cheaper.
    return sorted(found, key=lambda r: (r[1], r[0].int))


async def existing_ids(conn: AsyncConnection, ids: Sequence[UUID]) -> set[UUID]:
    """Those of `ids` that have a CI row (a relationship may outlive its CI's row)."""
    found: set[UUID] = set()
    for condition in among(conn, config_item.c.id, ids):
        found.update((await conn.scalars(select(config_item.c.id).where(condition))).all())
    return found


async def edges_touching(conn: AsyncConnection, ids: Sequence[UUID]) -> list[Edge]:
    """The CI-to-CI relationships with an end in `ids` (one impact-analysis level)."""
    edges: list[Edge] = []
    r = ci_relationship
    for chunk in chunks(list(ids)):
        query = select(r.c.source_id, r.c.type, r.c.target_id).where(
            r.c.type != RelationshipType.SUPPORTED_BY.value,
            or_(r.c.source_id.in_(chunk), r.c.target_id.in_(chunk)),
        )
        edges.extend(
            Edge(row.source_id, RelationshipType(row.type), row.target_id) for row in await conn.execute(query)
        )
    return edges


async def summaries(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, Summary]:
    """The summaries of the CIs with these ids that exist, by id."""
    c = config_item
    columns = (c.c.id, c.c.number, c.c.name, c.c.type, c.c.status, c.c.criticality)
    found: dict[UUID, Summary] = {}
    for condition in among(conn, c.c.id, list(set(ids))):
        found.update((row[0], Summary(*row)) for row in await conn.execute(select(*columns).where(condition)))
    return found


async def business_services_among(conn: AsyncConnection, ids: Sequence[UUID]) -> set[UUID]:
    found: set[UUID] = set()
    for chunk in chunks(list(ids)):
        query = select(config_item.c.id).where(config_item.c.id.in_(chunk), config_item.c.type == BUSINESS_SERVICE)
        found.update((await conn.scalars(query)).all())
    return found
