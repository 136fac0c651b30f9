"""FastAPI dependencies that every service's routes share: who may read, the If-Match header, and
the paging bounds. A service's `api/deps.py` adds its own role sets and its `Current<Record>` loaders,
built on `shared.errors.found` (load-or-404, which use cases use too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query
from pydantic import WithJsonSchema

from shared.auth import READ_ROLES, Principal, current_principal, require_roles
from shared.http import expected_version

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
"""Every human role (not the pipeline and monitoring machine tokens)."""
Actor = Annotated[Principal, Depends(current_principal)]
"""Anyone authenticated; the use case decides what they may do."""

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
