"""docs/authorization.md is generated from the services' authorisation tables and must not drift."""

from __future__ import annotations

from itsm.authorization import DOC, authorization_markdown


def test_the_authorization_doc_is_the_generated_one() -> None:
    assert DOC.read_text() == authorization_markdown(), "run `make authorization`"
