"""One way to write `INSERT ... ON CONFLICT`: `shared.db.insert_ignoring_duplicates` and
`shared.db.upsert_statement`, built once and cached by SQLAlchemy. The dialects' own
`insert().on_conflict_do_nothing()` / `on_conflict_do_update()` have no cache key: SQLAlchemy compiles
them again on every execution (the twins a review found). Every module of the services and of
`shared` is read for a call to them."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted([*(ROOT / "services").rglob("*.py"), *(ROOT / "shared").rglob("*.py")])
UNCACHED = {"on_conflict_do_nothing", "on_conflict_do_update"}
KNOWN = {
    # Many rows with RETURNING of each row inserted (executemany): only SQLAlchemy's insert() construct
    # does that ("insertmanyvalues"); a text statement cannot. The SLA watcher's pass, once per batch.
    "services/incident/store/sla.py",
}


def uncached_inserts(source: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in UNCACHED
    ]


def test_the_check_sees_both_forms() -> None:
    source = "a = insert(t).on_conflict_do_nothing()\nb = x.on_conflict_do_update(index_elements=['id'])\n"
    assert uncached_inserts(source) == [1, 2]


def test_no_module_builds_an_uncacheable_insert_on_conflict() -> None:
    assert len(MODULES) > 100
    found = {
        str(p.relative_to(ROOT)): lines for p in MODULES if (lines := uncached_inserts(p.read_text(encoding="utf-8")))
    }
    assert set(found) <= KNOWN, f"use shared.db.insert_ignoring_duplicates / upsert_statement instead: {found}"
