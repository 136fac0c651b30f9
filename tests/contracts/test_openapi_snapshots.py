"""Each service's HTTP API is a published contract too: a change to `/openapi.json` must be deliberate.

The document each service serves is compared with its snapshot in `openapi/`. A refactoring
leaves them identical; a deliberate API change refreshes them with
`ITSM_UPDATE_SNAPSHOTS=1 uv run pytest tests/contracts` and says so in CHANGELOG.md.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

SNAPSHOTS = Path(__file__).parent / "openapi"
UPDATE = os.environ.get("ITSM_UPDATE_SNAPSHOTS") == "1"
SERVICES = ["incident", "change", "config", "supplier", "reporting", "notify"]


def _openapi(service: str) -> dict[str, Any]:
    app = importlib.import_module(f"services.{service}.app").create_app()
    document: dict[str, Any] = app.openapi()
    return document


@pytest.mark.parametrize("service", SERVICES)
def test_openapi_document_matches_its_snapshot(service: str) -> None:
    document = _openapi(service)
    path = SNAPSHOTS / f"{service}.json"
    if UPDATE:
        path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    assert path.exists(), f"no snapshot for {service}: refresh with ITSM_UPDATE_SNAPSHOTS=1"
    snapshot = json.loads(path.read_text())
    assert sorted(document["paths"]) == sorted(snapshot["paths"]), f"{service}: routes added or removed"
    assert document == snapshot, f"{service}'s OpenAPI document changed: refresh deliberately"
