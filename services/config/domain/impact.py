"""Impact analysis over the relationship graph, as a walk driven one level at a time.

`downstream` answers "what is affected if this CI fails", `upstream` "what could make this CI
fail". Which way impact flows depends on the relationship: if B fails, A is affected when
A depends_on B or A runs_on B; a group is affected when its member fails (member_of); a
connection affects both ends; a backup does not affect what it backs up. The walk is breadth
first, so each CI is reached by a shortest path; cycles end where a CI was already reached.
The store feeds it the relationships that touch each level, so any database serves. A database
that can do more of a level itself (PostgreSQL) follows only the relationships of `hop_types`
and tells how each new CI was first reached (`Arrival`); `reached_by` makes the same result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from uuid import UUID

from services.config.domain.relationships import RelationshipType


class Direction(StrEnum):
    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"


# For a relationship `source -type-> target`: does a failure of the target affect the source
# (True), of the source affect the target (False), or both ends (None)? Absent: no impact.
_TARGET_AFFECTS_SOURCE: Final[dict[RelationshipType, bool | None]] = {
    RelationshipType.DEPENDS_ON: True,
    RelationshipType.RUNS_ON: True,
    RelationshipType.MEMBER_OF: False,
    RelationshipType.CONNECTS_TO: None,
}

MAX_DEPTH: Final = 10
PAGE_DEFAULT: Final = 1_000
PAGE_MAX: Final = 10_000
"""A compact answer's page: ids and distances, about 60 bytes a CI."""


@dataclass(frozen=True, slots=True)
class Edge:
    source_id: UUID
    type: RelationshipType
    target_id: UUID


@dataclass(frozen=True, slots=True)
class Step:
    """One hop of a path: from `from_id` to `to_id` along a relationship of `type`."""

    from_id: UUID
    to_id: UUID
    type: RelationshipType
    relationship_reversed: bool


@dataclass(frozen=True, slots=True)
class Reached:
    ci_id: UUID
    distance: int
    path: tuple[Step, ...]


def _next_hops(edge: Edge, node: UUID, direction: Direction) -> list[tuple[UUID, bool]]:
    """Where impact (or, upstream, its cause) goes from `node` along `edge`: (other end, reversed?)."""
    if edge.type not in _TARGET_AFFECTS_SOURCE:
        return []
    flow = _TARGET_AFFECTS_SOURCE[edge.type]
    hops: list[tuple[UUID, bool]] = []
    # Downstream from the target to the source when the target affects the source; upstream the opposite.
    target_to_source = flow is None or (flow is True) == (direction is Direction.DOWNSTREAM)
    source_to_target = flow is None or (flow is False) == (direction is Direction.DOWNSTREAM)
    if edge.target_id == node and target_to_source:
        hops.append((edge.source_id, True))
    if edge.source_id == node and source_to_target:
        hops.append((edge.target_id, False))
    return hops


def next_hops(edge: Edge, node: UUID, direction: Direction) -> list[tuple[UUID, bool]]:
    """Where the walk goes from `node` along `edge` (other end, relationship reversed?)."""
    return _next_hops(edge, node, direction)


def check_depth(depth: int) -> None:
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be from 1 to {MAX_DEPTH}")


def hop_types(direction: Direction) -> tuple[frozenset[RelationshipType], frozenset[RelationshipType]]:
    """The relationship types the walk follows from a relationship's target to its source, and from
    its source to its target (what `_next_hops` does, as sets a database query can use)."""
    source, target = UUID(int=1), UUID(int=2)
    to_source = frozenset(t for t in RelationshipType if _next_hops(Edge(source, t, target), target, direction))
    to_target = frozenset(t for t in RelationshipType if _next_hops(Edge(source, t, target), source, direction))
    return to_source, to_target


@dataclass(frozen=True, slots=True)
class Arrival:
    """How the walk first reached a CI: at `distance`, from `from_id` (reached at `distance - 1`)
    along a relationship of `type`; among equally short ways the one `ImpactWalk` takes: from the
    lowest `from_id`, then by relationship type, source id and target id."""

    ci_id: UUID
    distance: int
    from_id: UUID
    type: RelationshipType
    relationship_reversed: bool


def reached_by(root: UUID, arrivals: Iterable[Arrival]) -> list[Reached]:
    """The walk's result (as `ImpactWalk.result`) from how each CI was first reached: each path is
    the path to the CI it came from plus one step."""
    paths: dict[UUID, tuple[Step, ...]] = {root: ()}
    reached: list[Reached] = []
    for arrival in sorted(arrivals, key=lambda a: a.distance):
        path = (
            *paths[arrival.from_id],
            Step(arrival.from_id, arrival.ci_id, arrival.type, arrival.relationship_reversed),
        )
        paths[arrival.ci_id] = path
        reached.append(Reached(arrival.ci_id, arrival.distance, path))
    # UUIDs order as their text does (fixed-width hex), and comparing the integers is cheaper.
    return sorted(reached, key=lambda r: (r.distance, r.ci_id.int))


class ImpactWalk:
    def __init__(self, root: UUID, direction: Direction, depth: int) -> None:
        check_depth(depth)
        self.root = root
        self.direction = direction
        self.depth = depth
        self._reached: dict[UUID, Reached] = {root: Reached(root, 0, ())}
        self._frontier: list[UUID] = [root]
        self._level = 0

    @property
    def frontier(self) -> list[UUID]:
        """The CIs whose relationships the walk needs next; empty when it is done."""
        return [] if self._level >= self.depth else list(self._frontier)

    def advance(self, edges: Iterable[Edge]) -> None:
        """Take the relationships touching the frontier and move one level further."""
        frontier = set(self._frontier)
        touching: dict[UUID, list[Edge]] = {}
        for edge in edges:
            for end in (edge.source_id, edge.target_id):
                if end in frontier:
                    touching.setdefault(end, []).append(edge)
        self._level += 1
        found: list[UUID] = []
        # Sorted so that among equally short paths the same one is chosen every time.
        for node in sorted(frontier):
            for edge in sorted(
                touching.get(node, []), key=lambda e: (e.type.value, str(e.source_id), str(e.target_id))
            ):
                for other, reversed_ in _next_hops(edge, node, self.direction):
                    if other in self._reached:
                        continue
                    step = Step(node, other, edge.type, reversed_)
                    self._reached[other] = Reached(other, self._level, (*self._reached[node].path, step))
                    found.append(other)
        self._frontier = found

    def result(self) -> list[Reached]:
        """Every CI reached, nearest first, without the root."""
        reached = [r for r in self._reached.values() if r.ci_id != self.root]
        return sorted(reached, key=lambda r: (r.distance, str(r.ci_id)))


def walk_in_memory(root: UUID, direction: Direction, depth: int, edges: Iterable[Edge]) -> list[Reached]:
    """The whole walk over edges already in memory (tests and small graphs)."""
    all_edges = list(edges)
    walk = ImpactWalk(root, direction, depth)
    while frontier := set(walk.frontier):
        walk.advance(e for e in all_edges if e.source_id in frontier or e.target_id in frontier)
    return walk.result()
