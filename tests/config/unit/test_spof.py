"""Single points of failure of a business service, on hand-drawn dependency graphs."""

from __future__ import annotations

from uuid import UUID

import pytest

from services.config.domain.impact import Edge
from services.config.domain.relationships import RelationshipType as T
from services.config.domain.spof import MAX_CIS, needs, single_points_of_failure

SERVICE, APP1, APP2, DB, HOST1, HOST2, CLUSTER = (UUID(int=n) for n in range(1, 8))
TYPES = {
    SERVICE: "business_service",
    APP1: "application_instance",
    APP2: "application_instance",
    DB: "database",
    HOST1: "server",
    HOST2: "server",
    CLUSTER: "cluster",
}


def spofs(*edges: Edge) -> dict[UUID, tuple[int, tuple[str, ...]]]:
    return {s.ci_id: (s.cut_off, s.types_lost) for s in single_points_of_failure(SERVICE, needs(edges), TYPES)}


def test_every_ci_of_a_chain_is_one_and_the_service_itself_is_not() -> None:
    found = spofs(Edge(SERVICE, T.DEPENDS_ON, APP1), Edge(APP1, T.RUNS_ON, HOST1))
    assert found == {APP1: (2, ("application_instance", "server")), HOST1: (1, ("server",))}
    ordered = single_points_of_failure(
        SERVICE, needs([Edge(SERVICE, T.DEPENDS_ON, APP1), Edge(APP1, T.RUNS_ON, HOST1)]), TYPES
    )
    assert [s.ci_id for s in ordered] == [APP1, HOST1]  # most cut off first


def test_a_redundant_diamond_has_none() -> None:
    assert (
        spofs(
            Edge(SERVICE, T.DEPENDS_ON, APP1),
            Edge(SERVICE, T.DEPENDS_ON, APP2),
            Edge(APP1, T.RUNS_ON, HOST1),
            Edge(APP2, T.RUNS_ON, HOST2),
        )
        == {}
    )


def test_a_database_shared_by_two_application_servers_is_one() -> None:
    found = spofs(
        Edge(SERVICE, T.DEPENDS_ON, APP1),
        Edge(SERVICE, T.DEPENDS_ON, APP2),
        Edge(APP1, T.DEPENDS_ON, DB),
        Edge(APP2, T.DEPENDS_ON, DB),
    )
    assert found == {DB: (1, ("database",))}


def test_cluster_members_are_redundant_but_the_cluster_record_is_not() -> None:
    found = spofs(
        Edge(SERVICE, T.RUNS_ON, CLUSTER),
        Edge(HOST1, T.MEMBER_OF, CLUSTER),
        Edge(HOST2, T.MEMBER_OF, CLUSTER),
    )
    assert found == {CLUSTER: (3, ("cluster", "server"))}


def test_cycles_and_backups_are_harmless() -> None:
    found = spofs(
        Edge(SERVICE, T.DEPENDS_ON, APP1),
        Edge(APP1, T.DEPENDS_ON, DB),
        Edge(DB, T.DEPENDS_ON, APP1),  # a cycle back
        Edge(DB, T.DEPENDS_ON, SERVICE),  # and to the service
        Edge(DB, T.BACKED_UP_BY, HOST2),  # a backup is not needed
    )
    assert found == {APP1: (2, ("application_instance", "database")), DB: (1, ("database",))}


def test_a_ci_without_a_row_is_walked_through_but_is_no_candidate() -> None:
    ghost = UUID(int=99)
    found = spofs(Edge(SERVICE, T.DEPENDS_ON, ghost), Edge(ghost, T.RUNS_ON, HOST1))
    assert found == {HOST1: (1, ("server",))}


def test_a_graph_over_the_bound_is_refused() -> None:
    edges = [Edge(SERVICE, T.DEPENDS_ON, UUID(int=1000 + n)) for n in range(MAX_CIS + 1)]
    with pytest.raises(ValueError, match="more than"):
        single_points_of_failure(SERVICE, needs(edges), {})
