"""Text no database can store, refused as input: U+0000 (PostgreSQL's text cannot hold it) and half
of a UTF-16 surrogate pair alone (JSON may spell one, `\\ud800`; no encoding stores it). An app
dependency (`text_without_nul`, mounted by `shared.app` on every service) answers a 422 naming where
it is, in a parameter or anywhere in a body, instead of a 500 on writing."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

from fastapi import Depends, Request

from shared.errors import RuleViolation
from shared.http import is_json_media_type

NUL_REASON = "contains the character U+0000, which text cannot hold"


SURROGATE_REASON = "contains half of a UTF-16 surrogate pair alone, which text cannot hold"
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def _why_unstorable(text: str) -> str | None:
    if "\x00" in text:
        return NUL_REASON
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # JSON may spell half of a pair alone (`\ud800`); no encoding stores it
        return SURROGATE_REASON
    return None


def _unstorable_paths(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Where parsed JSON holds text no database can store, and why: `title`, `items.0.name` (a key
    holding it names itself)."""
    if isinstance(value, str):
        if why := _why_unstorable(value):
            yield path or "body", why
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            why = _why_unstorable(str(key))
            yield from [(inner, why)] if why else _unstorable_paths(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_paths(item, f"{path}.{index}" if path else str(index))


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _text_without_nul(request: Request) -> None:
    """Text holds no U+0000 and no lone surrogate (the databases cannot store them): in a path or
    query parameter, or in a body, it is a 422 naming where it is. The body is looked into only when
    it holds one, raw or escaped as JSON."""
    named = [*request.path_params.items(), *request.query_params.multi_items()]
    refused = [(name, NUL_REASON) for name, value in named if "\x00" in str(value)]
    if request.method in ("GET", "HEAD", "OPTIONS"):
        pass
    elif request.headers.get("content-type", "").startswith(_FORMS):
        # A form the route has already read (its stream is gone): its parsed fields are checked.
        fields = (await request.form()).multi_items()
        refused += [(name, NUL_REASON) for name, value in fields if isinstance(value, str) and "\x00" in value]
    else:
        body = await request.body()
        if b"\x00" in body:
            refused.append(("body", NUL_REASON))
        elif (b"\\u0000" in body or _ESCAPED_SURROGATE.search(body)) and is_json_media_type(
            request.headers.get("content-type", "application/json")
        ):
            with contextlib.suppress(ValueError):  # not JSON: the route's own validation names the body
                refused += list(_unstorable_paths(json.loads(body)))
    if refused:
        raise RuleViolation.of_fields(list(dict(refused).items()))


def text_without_nul() -> Any:
    """An app dependency: refuses U+0000 in any parameter or body (`_text_without_nul`)."""
    return Depends(_text_without_nul)
