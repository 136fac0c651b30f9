"""The impact answer is written without a model per CI (`api._impact_json`, for speed): it must be
byte for byte what FastAPI sends for the `ImpactRead` model, names with quotes, control
characters and any Unicode included, CIs missing from the CMDB left out (their paths kept)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter

from services.config.api.impact import _impact_json, _page_json
from services.config.domain.impact import MAX_DEPTH, Arrival, Direction, Edge, Reached, walk_in_memory
from services.config.domain.items import CIStatus, ConfigItem, Criticality, Identifiers
from services.config.domain.relationships import RelationshipType
from services.config.schemas.impact import AffectedCI, CISummary, ImpactedCI, ImpactPage, ImpactRead
from services.config.store.impact import Summary

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
NAMES = [
    "web-01",
    'quote " and back\\slash',
    "tab\tnew\nline\rfeed\x08\x0c",
    "control \x00\x01\x1f and \x7f",
    "Zürich Rechenzentrum 数据中心 🚀",
    "line\u2028separator </script>",
    "\u3000\x0b ends in Unicode spaces\u2028\x85 \xa0",
    "\x1c\x1f separators are not spaces\x1e",
]
TYPES = ["business_service", "application_instance", "virtual_machine", "server", "database"]


def _item(ci_id: uuid.UUID, rng: random.Random, number: int) -> ConfigItem:
    return ConfigItem(
        id=ci_id,
        number=f"CI{number:07d}",
        name=rng.choice(NAMES),
        ci_type=rng.choice(TYPES),
        status=rng.choice(list(CIStatus)),
        criticality=rng.choice(list(Criticality)),
        owner=None,
        attributes={},
        identifiers=Identifiers(),
        created_at=NOW,
        updated_at=NOW,
    )


def _graph(rng: random.Random, nodes: list[uuid.UUID], count: int) -> list[Edge]:
    edges: set[Edge] = set()
    while len(edges) < count:
        source, target = rng.sample(nodes, 2)
        edges.add(Edge(source, rng.choice(list(RelationshipType)), target))
    return sorted(edges, key=lambda e: (str(e.source_id), e.type.value, str(e.target_id)))


def _expected(root: ConfigItem, direction: Direction, depth: int, reached: list[Reached], items: dict) -> bytes:
    """What the endpoint answered when it built the model (and what FastAPI makes of a model)."""
    affected = [AffectedCI.of(r, items[r.ci_id]) for r in reached if r.ci_id in items]
    services = [a.ci for a in affected if a.ci.type == "business_service"]
    answer = ImpactRead(
        root=CISummary.of(root), direction=direction, depth=depth, affected=affected, business_services=services
    )
    return TypeAdapter(ImpactRead).dump_json(answer, by_alias=True)


@pytest.mark.parametrize("seed", range(6))
def test_the_answer_is_the_models_json_byte_for_byte(seed: int) -> None:
    rng = random.Random(seed)
    nodes = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(80)]
    edges = _graph(rng, nodes, 320)
    items = {n: _item(n, rng, i) for i, n in enumerate(nodes)}
    for missing in rng.sample(nodes[1:], 8):  # relationships may outlive a CI's row
        del items[missing]
    rows = {
        i.id: Summary(i.id, i.number, i.name, i.ci_type, i.status.value, int(i.criticality)) for i in items.values()
    }
    root = items[nodes[0]]
    for direction in Direction:
        for depth in (1, 2, 5, MAX_DEPTH):
            reached = walk_in_memory(root.id, direction, depth, edges)
            arrivals = [
                Arrival(r.ci_id, r.distance, r.path[-1].from_id, r.path[-1].type, r.path[-1].relationship_reversed)
                for r in reached
            ]
            rng.shuffle(arrivals)  # the order given does not matter
            assert _impact_json(root, direction, depth, arrivals, rows) == _expected(
                root, direction, depth, reached, items
            )


def test_an_answer_with_nothing_reached() -> None:
    rng = random.Random(7)
    root = _item(uuid.uuid4(), rng, 1)
    expected = _expected(root, Direction.UPSTREAM, 3, [], {})
    assert _impact_json(root, Direction.UPSTREAM, 3, [], {}) == expected


@pytest.mark.parametrize(("limit", "offset"), [(1000, 0), (3, 0), (3, 6), (7, 40), (1, 1000)])
def test_the_compact_page_is_the_models_json_byte_for_byte(limit: int, offset: int) -> None:
    rng = random.Random(limit + offset)
    found = sorted(((uuid.UUID(int=rng.getrandbits(128)), rng.randint(1, 5)) for _ in range(42)), key=lambda f: f[1])
    root = uuid.uuid4()
    page = ImpactPage(
        root_id=root,
        direction=Direction.UPSTREAM,
        depth=5,
        items=[ImpactedCI(id=ci, distance=d) for ci, d in found[offset : offset + limit]],
        total=42,
        limit=limit,
        offset=offset,
    )
    written = _page_json(root, Direction.UPSTREAM, 5, found, limit, offset)
    assert written == TypeAdapter(ImpactPage).dump_json(page, by_alias=True)
    assert len(page.items) == max(0, min(limit, 42 - offset))
