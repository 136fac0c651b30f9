"""Event contracts are a published language: a schema change must be deliberate.

Each event type's JSON Schema is compared with its snapshot in `snapshots/`. A difference fails;
a compatible change (a new optional field) is accepted by refreshing the snapshots with
`ITSM_UPDATE_SNAPSHOTS=1 uv run pytest tests/contracts`; a breaking one needs a new `.v2` type.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from shared.events.catalogue import all_schemas, envelope_schema

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("ITSM_UPDATE_SNAPSHOTS") == "1"


def _check(name: str, schema: dict[str, Any]) -> None:
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"no snapshot for {name}: a new event type? refresh with ITSM_UPDATE_SNAPSHOTS=1"
    assert json.loads(path.read_text()) == schema, f"{name} changed: bump the version or refresh deliberately"


@pytest.mark.parametrize("routing_key", sorted(all_schemas()))
def test_event_schema_matches_its_snapshot(routing_key: str) -> None:
    _check(routing_key, all_schemas()[routing_key])


def test_envelope_schema_matches_its_snapshot() -> None:
    _check("cloudevent-envelope", envelope_schema())


def test_every_snapshot_belongs_to_a_current_event_type() -> None:
    known = {*all_schemas(), "cloudevent-envelope"}
    orphans = {p.stem for p in SNAPSHOTS.glob("*.json")} - known
    assert not orphans, f"snapshots without an event type (removed without a version plan?): {orphans}"


def test_a_removed_field_would_be_caught() -> None:
    schema = all_schemas()["incident.created.v1"]
    tampered = json.loads(json.dumps(schema))
    del tampered["properties"]["priority"]
    assert tampered != json.loads((SNAPSHOTS / "incident.created.v1.json").read_text())
