"""Single points of failure of a business service (availability planning, ISO/IEC 20000-1 6.3).

The dependency graph of a service is what the upstream impact walk follows from it: a CI needs
what it `depends_on` and `runs_on`, a group needs its members (`member_of`), a connection goes
both ways, a backup is not needed (`backed_up_by` is left out). Redundancy is not a relationship
type of its own: there is no `redundant_with`. A service is redundant in something when it
reaches more than one CI of that kind along different paths (two application instances, two
members of a cluster). So the rule is:

A CI X (not the service itself) is a single point of failure when, with X removed from the
graph, the service no longer reaches any CI of some type it reached before: its loss alone cuts
the service off from all of its supporting CIs of that type (X's own type included, so a CI that
is the only one of its type is one). `cut_off` counts the CIs the service no longer reaches
(X included), `types_lost` names the types it loses.

A shared database under two application servers is one; either server is not (the other still
reaches the database). Cycles are harmless (reachability). Each candidate costs one walk of the
graph, so the graph is bounded (`MAX_CIS`); a larger one is refused, not cut short.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from uuid import UUID

from services.config.domain.impact import Direction, Edge, next_hops

MAX_CIS: Final = 2_000
"""The most CIs a service's dependency graph may have for a SPOF analysis."""


@dataclass(frozen=True, slots=True)
class SinglePointOfFailure:
    ci_id: UUID
    cut_off: int
    types_lost: tuple[str, ...]


def needs(edges: Iterable[Edge]) -> dict[UUID, set[UUID]]:
    """What each CI needs, by the relationships the upstream impact walk follows."""
    graph: dict[UUID, set[UUID]] = {}
    for edge in edges:
        for node in {edge.source_id, edge.target_id}:
            for other, _ in next_hops(edge, node, Direction.UPSTREAM):
                graph.setdefault(node, set()).add(other)
    return graph


def reachable(graph: Mapping[UUID, Iterable[UUID]], root: UUID, without: UUID | None = None) -> set[UUID]:
    """The CIs `root` reaches in `graph` (root included), not passing through `without`."""
    seen = {root}
    stack = [root]
    while stack:
        for other in graph.get(stack.pop(), ()):
            if other != without and other not in seen:
                seen.add(other)
                stack.append(other)
    return seen


def single_points_of_failure(
    root: UUID, graph: Mapping[UUID, Iterable[UUID]], types: Mapping[UUID, str]
) -> list[SinglePointOfFailure]:
    """The single points of failure of the service `root`, most CIs cut off first, then by id.
    `types` holds the type of each CI that exists; a CI without one (a relationship that outlived
    its CI) is walked through but is no candidate and counts for nothing."""
    before = reachable(graph, root) - {root}
    if len(before) > MAX_CIS:
        raise ValueError(f"the service depends on more than {MAX_CIS} CIs")
    kinds_before = {types[ci] for ci in before if ci in types}
    found: list[SinglePointOfFailure] = []
    for candidate in before:
        if candidate not in types:
            continue
        after = reachable(graph, root, without=candidate) - {root}
        lost = kinds_before - {types[ci] for ci in after if ci in types}
        if lost:
            cut_off = sum(1 for ci in before - after if ci in types)
            found.append(SinglePointOfFailure(candidate, cut_off, tuple(sorted(lost))))
    return sorted(found, key=lambda s: (-s.cut_off, s.ci_id.int))
