"""Baselines: a set of CI snapshots taken together, and what differs between two such sets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.config.domain.items import diff

# Bookkeeping that changes with every version; a baseline comparison is about configuration.
_IGNORED = ("version", "updated_at", "created_at")


@dataclass(frozen=True)
class Changed:
    ci_id: str
    number: str
    name: str
    changes: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Comparison:
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[Changed]
    unchanged: int


def compare(before: Mapping[str, dict[str, Any]], after: Mapping[str, dict[str, Any]]) -> Comparison:
    """Two sets of snapshots by CI id: what was added, removed and changed from `before` to `after`."""
    added = [after[i] for i in sorted(set(after) - set(before))]
    removed = [before[i] for i in sorted(set(before) - set(after))]
    changed: list[Changed] = []
    unchanged = 0
    for ci_id in sorted(set(before) & set(after)):
        old = {k: v for k, v in before[ci_id].items() if k not in _IGNORED}
        new = {k: v for k, v in after[ci_id].items() if k not in _IGNORED}
        if changes := diff(old, new):
            changed.append(Changed(ci_id, after[ci_id]["number"], after[ci_id]["name"], changes))
        else:
            unchanged += 1
    return Comparison(added=added, removed=removed, changed=changed, unchanged=unchanged)
