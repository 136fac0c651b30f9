"""CMDB store, single points of failure: a service's dependency graph, one query per level."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.spof import MAX_CIS, needs
from services.config.store.impact import Summary, edges_touching, summaries


class TooLarge(Exception):
    """The service depends on more than `MAX_CIS` CIs."""


async def dependency_graph(conn: AsyncConnection, root: UUID) -> tuple[dict[UUID, set[UUID]], dict[UUID, Summary]]:
    """What each CI the service `root` reaches needs (the upstream walk's relationships, to any
    depth), and the summaries of the reached CIs that exist. Refuses (`TooLarge`) a graph of more
    than `MAX_CIS` CIs, after reading at most one level beyond the bound."""
    graph: dict[UUID, set[UUID]] = {}
    seen = {root}
    frontier = [root]
    while frontier:
        level = needs(await edges_touching(conn, frontier))
        found: list[UUID] = []
        for node in frontier:
            for other in level.get(node, ()):
                graph.setdefault(node, set()).add(other)
                if other not in seen:
                    seen.add(other)
                    found.append(other)
        if len(seen) - 1 > MAX_CIS:
            raise TooLarge(f"the service depends on more than {MAX_CIS} CIs")
        frontier = found
    return graph, await summaries(conn, [ci for ci in seen if ci != root])
