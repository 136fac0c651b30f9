"""How impact travels each relationship type (`hop_types`, the sets a database query follows), the
paths the walk records, a root with no relationships, and `reached_by`, which rebuilds the walk's
result from how each CI was first reached."""

from __future__ import annotations

import random
from uuid import UUID

import pytest

from services.config.domain.impact import (
    Arrival,
    Direction,
    Edge,
    ImpactWalk,
    Reached,
    Step,
    hop_types,
    reached_by,
    walk_in_memory,
)
from services.config.domain.relationships import RelationshipType as T

A, B, C, D = (UUID(int=n) for n in (10, 20, 30, 40))


def test_downstream_impact_goes_to_what_depends_runs_or_connects_and_from_a_member_to_its_group() -> None:
    to_source, to_target = hop_types(Direction.DOWNSTREAM)
    assert to_source == {T.DEPENDS_ON, T.RUNS_ON, T.CONNECTS_TO}
    assert to_target == {T.MEMBER_OF, T.CONNECTS_TO}


def test_upstream_causes_are_what_a_ci_depends_or_runs_on_its_connections_and_a_groups_members() -> None:
    to_source, to_target = hop_types(Direction.UPSTREAM)
    assert to_source == {T.MEMBER_OF, T.CONNECTS_TO}
    assert to_target == {T.DEPENDS_ON, T.RUNS_ON, T.CONNECTS_TO}


@pytest.mark.parametrize("direction", list(Direction))
def test_backups_and_supplier_support_carry_no_impact_either_way(direction: Direction) -> None:
    to_source, to_target = hop_types(direction)
    assert not {T.BACKED_UP_BY, T.SUPPORTED_BY} & (to_source | to_target)


@pytest.mark.parametrize("direction", list(Direction))
def test_hop_types_are_the_relationships_the_walk_follows(direction: Direction) -> None:
    """One edge of each type into and out of the root: the walk reaches exactly what hop_types says."""
    for kind in T:
        into = walk_in_memory(A, direction, 1, [Edge(B, kind, A)])  # the root is the target
        out_of = walk_in_memory(A, direction, 1, [Edge(A, kind, B)])  # the root is the source
        to_source, to_target = hop_types(direction)
        assert bool(into) == (kind in to_source), kind
        assert bool(out_of) == (kind in to_target), kind


def test_a_step_along_a_relationship_says_whether_it_was_read_backwards() -> None:
    # A depends on B. Downstream from B, A is reached against the relationship's direction ("used by");
    # upstream from A, B is reached along it.
    [down] = walk_in_memory(B, Direction.DOWNSTREAM, 1, [Edge(A, T.DEPENDS_ON, B)])
    assert down.path == (Step(B, A, T.DEPENDS_ON, True),)
    [up] = walk_in_memory(A, Direction.UPSTREAM, 1, [Edge(A, T.DEPENDS_ON, B)])
    assert up.path == (Step(A, B, T.DEPENDS_ON, False),)


def test_a_root_without_relationships_reaches_nothing_and_the_walk_ends_at_once() -> None:
    assert walk_in_memory(A, Direction.DOWNSTREAM, 5, []) == []
    walk = ImpactWalk(A, Direction.UPSTREAM, 5)
    assert walk.frontier == [A]
    walk.advance([])
    assert walk.frontier == []
    assert walk.result() == []


def test_a_ci_frontier_without_relationships_of_its_own_does_not_stop_the_others() -> None:
    # B (reached first) has no further relationships; C goes on to D.
    edges = [Edge(B, T.DEPENDS_ON, A), Edge(C, T.DEPENDS_ON, A), Edge(D, T.DEPENDS_ON, C)]
    walk = ImpactWalk(A, Direction.DOWNSTREAM, 3)
    walk.advance(edges)
    walk.advance([e for e in edges if e.target_id == C])  # the store finds nothing touching B
    assert [(r.ci_id, r.distance) for r in walk.result()] == [(B, 1), (C, 1), (D, 2)]


def test_two_connections_between_the_same_cis_give_the_path_of_the_one_with_the_lower_source() -> None:
    # A connects to B and B connects to A: either leads from A to B; the one whose source sorts first
    # (A's own) is the path, whichever order the store lists them in.
    for edges in (
        [Edge(A, T.CONNECTS_TO, B), Edge(B, T.CONNECTS_TO, A)],
        [Edge(B, T.CONNECTS_TO, A), Edge(A, T.CONNECTS_TO, B)],
    ):
        [reached] = walk_in_memory(A, Direction.DOWNSTREAM, 1, edges)
        assert reached.path == (Step(A, B, T.CONNECTS_TO, False),)
        [reached] = walk_in_memory(B, Direction.DOWNSTREAM, 1, edges)
        assert reached.path == (Step(B, A, T.CONNECTS_TO, True),)


def arrivals_of(result: list[Reached]) -> list[Arrival]:
    return [
        Arrival(r.ci_id, r.distance, r.path[-1].from_id, r.path[-1].type, r.path[-1].relationship_reversed)
        for r in result
    ]


def test_reached_by_rebuilds_each_path_from_the_arrivals_in_any_order() -> None:
    # B depends on A, C on B, D runs on C: downstream from A, the chain B, C, D.
    edges = [Edge(B, T.DEPENDS_ON, A), Edge(C, T.DEPENDS_ON, B), Edge(D, T.RUNS_ON, C)]
    arrivals = [
        Arrival(D, 3, C, T.RUNS_ON, True),
        Arrival(B, 1, A, T.DEPENDS_ON, True),
        Arrival(C, 2, B, T.DEPENDS_ON, True),
    ]
    assert reached_by(A, arrivals) == [
        Reached(B, 1, (Step(A, B, T.DEPENDS_ON, True),)),
        Reached(C, 2, (Step(A, B, T.DEPENDS_ON, True), Step(B, C, T.DEPENDS_ON, True))),
        Reached(D, 3, (Step(A, B, T.DEPENDS_ON, True), Step(B, C, T.DEPENDS_ON, True), Step(C, D, T.RUNS_ON, True))),
    ]
    assert reached_by(A, arrivals) == walk_in_memory(A, Direction.DOWNSTREAM, 5, edges)


def test_reached_by_orders_equally_distant_cis_by_id_and_keeps_each_steps_direction() -> None:
    arrivals = [Arrival(C, 1, A, T.MEMBER_OF, False), Arrival(B, 1, A, T.CONNECTS_TO, True)]
    assert reached_by(A, arrivals) == [
        Reached(B, 1, (Step(A, B, T.CONNECTS_TO, True),)),
        Reached(C, 1, (Step(A, C, T.MEMBER_OF, False),)),
    ]


def test_reached_by_of_a_root_with_no_arrivals_is_empty() -> None:
    assert reached_by(A, []) == []


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("direction", list(Direction))
def test_reached_by_is_the_walks_result_on_random_graphs(seed: int, direction: Direction) -> None:
    rng = random.Random(seed)
    nodes = [UUID(int=rng.getrandbits(128)) for _ in range(40)]
    edges = []
    for _ in range(120):
        source, target = rng.sample(nodes, 2)
        edges.append(Edge(source, rng.choice(list(T)), target))
    expected = walk_in_memory(nodes[0], direction, 6, edges)
    arrivals = arrivals_of(expected)
    rng.shuffle(arrivals)
    assert reached_by(nodes[0], arrivals) == expected
