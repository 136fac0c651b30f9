"""FastAPI dependencies that every service's routes share: the If-Match header and the paging
bounds. Who may call a route is the service's authorisation table (`shared.authorization`); a
service's `api/deps.py` holds it, `Caller`, and its `Current<Record>` loaders,
built on `shared.errors.found` (load-or-404, which use cases use too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query
from pydantic import WithJsonSchema

from shared.http import expected_version

IF_MATCH_OPTIONAL = 'The ETag read, e.g. W/"3" (optional)'
IF_MATCH_REQUIRED = 'The ETag read, e.g. W/"3" (required: 428 without)'
"""The two descriptions of If-Match: the OpenAPI documents add 428 to the routes that require it
(`shared.app.document_conventions`)."""

# Optional in Python (None when not sent), a string when sent: the documents say `string`, not
# `string or null` (a header is never null).
IfMatch = Annotated[
    str | None,
    Header(description=IF_MATCH_OPTIONAL),
    WithJsonSchema({"type": "string", "title": "If-Match", "description": IF_MATCH_OPTIONAL}),
]
RequiredIfMatch = Annotated[
    str | None,
    Header(description=IF_MATCH_REQUIRED),
    WithJsonSchema({"type": "string", "title": "If-Match", "description": IF_MATCH_REQUIRED}),
]

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
"""Paging past a million rows is a scan, not a use (filter instead); the bound also keeps the
value inside a 64-bit integer, which the databases need (2^63 answered 500)."""

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def optional_version(if_match: str | None) -> int | None:
    """The version an action is based on when If-Match was sent; None when it was not."""
    return expected_version(if_match) if if_match else None
