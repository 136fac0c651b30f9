"""Impact analysis on graphs with known answers: chains, diamonds, cycles, depth and direction."""

from __future__ import annotations

import uuid

import pytest

from services.config.domain.impact import Direction, Edge, ImpactWalk, walk_in_memory
from services.config.domain.relationships import RelationshipType as T

N = {
    name: uuid.UUID(int=i + 1)
    for i, name in enumerate(["svc", "app1", "app2", "vm1", "vm2", "db", "host", "sw1", "sw2", "bkp", "cluster"])
}
NAMES = {v: k for k, v in N.items()}


def e(source: str, kind: T, target: str) -> Edge:
    return Edge(N[source], kind, N[target])


# svc depends on app1 and app2 (a diamond down to db); apps run on VMs; VMs run on one host;
# the VMs are members of a cluster; the host connects to two switches that connect back (a cycle);
# the db is backed up by bkp (no impact).
GRAPH = [
    e("svc", T.DEPENDS_ON, "app1"),
    e("svc", T.DEPENDS_ON, "app2"),
    e("app1", T.DEPENDS_ON, "db"),
    e("app2", T.DEPENDS_ON, "db"),
    e("app1", T.RUNS_ON, "vm1"),
    e("app2", T.RUNS_ON, "vm2"),
    e("vm1", T.RUNS_ON, "host"),
    e("vm2", T.RUNS_ON, "host"),
    e("vm1", T.MEMBER_OF, "cluster"),
    e("vm2", T.MEMBER_OF, "cluster"),
    e("host", T.CONNECTS_TO, "sw1"),
    e("sw1", T.CONNECTS_TO, "sw2"),
    e("sw2", T.CONNECTS_TO, "host"),
    e("db", T.BACKED_UP_BY, "bkp"),
]


def reached(root: str, direction: Direction, depth: int) -> dict[str, int]:
    return {NAMES[r.ci_id]: r.distance for r in walk_in_memory(N[root], direction, depth, GRAPH)}


def test_a_failing_host_affects_what_runs_on_it_up_to_the_business_service() -> None:
    assert reached("host", Direction.DOWNSTREAM, 5) == {
        "vm1": 1,
        "vm2": 1,
        "sw1": 1,
        "sw2": 1,
        "app1": 2,
        "app2": 2,
        "cluster": 2,
        "svc": 3,
    }


def test_depth_bounds_the_walk() -> None:
    assert reached("host", Direction.DOWNSTREAM, 1) == {"vm1": 1, "vm2": 1, "sw1": 1, "sw2": 1}


def test_a_diamond_reaches_the_shared_node_once_by_a_shortest_path() -> None:
    result = walk_in_memory(N["db"], Direction.DOWNSTREAM, 5, GRAPH)
    assert {NAMES[r.ci_id]: r.distance for r in result} == {"app1": 1, "app2": 1, "svc": 2}
    [svc] = [r for r in result if r.ci_id == N["svc"]]
    assert [NAMES[s.to_id] for s in svc.path] == ["app1", "svc"]  # the same choice every time
    assert all(s.relationship_reversed for s in svc.path)  # read as "used_by"


def test_upstream_lists_what_the_service_depends_on() -> None:
    assert reached("svc", Direction.UPSTREAM, 5) == {
        "app1": 1,
        "app2": 1,
        "db": 2,
        "vm1": 2,
        "vm2": 2,
        "host": 3,
        "sw1": 4,
        "sw2": 4,
    }


def test_a_cycle_ends_the_walk_instead_of_looping() -> None:
    assert reached("sw1", Direction.DOWNSTREAM, 10) == {
        "sw2": 1,
        "host": 1,
        "vm1": 2,
        "vm2": 2,
        "app1": 3,
        "app2": 3,
        "cluster": 3,
        "svc": 4,
    }


def test_a_backup_is_not_an_impact_and_a_member_affects_its_group_only() -> None:
    assert reached("bkp", Direction.DOWNSTREAM, 5) == {}
    assert reached("cluster", Direction.DOWNSTREAM, 5) == {}
    assert "cluster" in reached("vm1", Direction.DOWNSTREAM, 1)


def test_the_walk_asks_only_for_the_edges_of_each_level() -> None:
    walk = ImpactWalk(N["db"], Direction.DOWNSTREAM, 2)
    asked = []
    while frontier := walk.frontier:
        asked.append({NAMES[i] for i in frontier})
        walk.advance(x for x in GRAPH if x.source_id in frontier or x.target_id in frontier)
    assert asked == [{"db"}, {"app1", "app2"}]


def test_depth_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="depth"):
        ImpactWalk(N["db"], Direction.DOWNSTREAM, 0)
