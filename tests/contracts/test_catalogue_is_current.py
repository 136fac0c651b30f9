"""The published catalogue and schemas are generated from code and must not drift from it."""

from __future__ import annotations

import json

from itsm.catalogue import README, SCHEMAS, catalogue_markdown, consumers_of, readme_with_catalogue
from shared.events.catalogue import all_schemas


def test_the_readme_catalogue_is_the_generated_one() -> None:
    text = README.read_text()
    assert readme_with_catalogue(text) == text, "run `make catalogue`"
    assert catalogue_markdown() in text


def test_docs_schemas_are_the_generated_ones() -> None:
    on_disk = {p.stem: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    assert on_disk == all_schemas(), "run `make catalogue`"


def test_reporting_consumes_everything() -> None:
    for key in all_schemas():
        assert "reporting" in consumers_of(key)
