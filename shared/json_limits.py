"""Bounds on free-form JSON taken from a client (CI attributes, a type's attribute schema, a
pipeline's payload): checked while the body is validated, before anything is stored.

Nesting beyond what a record needs only costs: a value nested a few hundred levels deep is
stored, then cannot be serialised again (pydantic's serialiser stops at its recursion limit), and
every page that shows it fails. Pure: no web framework here, so use cases may check rows too.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator

MAX_JSON_DEPTH = 32
"""Levels of objects and arrays, the outermost counting as one: ample for attributes, far below
the serialiser's recursion limit."""
MAX_JSON_BYTES = 64 * 1024
"""The compact UTF-8 JSON size of one free-form value: 64 KiB, a setting-free constant (the body
bound, 1 MiB by default, still holds the body as a whole)."""


def json_depth_over(value: Any, limit: int) -> bool:
    """Whether `value` nests objects and arrays deeper than `limit`; iterative, so a hostile depth
    costs no recursion, and it stops at the first level too deep."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_size(value: Any) -> int:
    """The compact UTF-8 JSON size of `value` in bytes, as MAX_JSON_BYTES counts it."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def json_bound_broken(value: Any) -> str | None:
    """Which bound `value` breaks, in words, or None within them (input checks and `itsm repair`)."""
    if json_depth_over(value, MAX_JSON_DEPTH):
        return f"nested deeper than {MAX_JSON_DEPTH} levels of objects and arrays"
    size = json_size(value)
    if size > MAX_JSON_BYTES:
        return f"larger than {MAX_JSON_BYTES} bytes as JSON ({size} bytes)"
    return None


def cut_at_depth(value: Any, limit: int, marker: Any) -> Any:
    """`value` with every object or array deeper than `limit` replaced by `marker` (not a container,
    so the result is within the limit). Recursion stops at the limit, however deep the value."""

    def cut(item: Any, depth: int) -> Any:
        if not isinstance(item, dict | list | tuple):
            return item
        if depth > limit:
            return marker
        if isinstance(item, dict):
            return {key: cut(child, depth + 1) for key, child in item.items()}
        return [cut(child, depth + 1) for child in item]

    return cut(value, 1)


def bounded_json(value: Any) -> Any:
    """The value as is, or a ValueError naming the bound it breaks (a 422 naming the field)."""
    broken = json_bound_broken(value)
    if broken is not None:
        raise ValueError(broken)
    return value


BoundedJson = AfterValidator(bounded_json)
"""Annotate any free-form type with it: `Annotated[dict[str, Any] | str | None, BoundedJson]`."""
FreeJson = Annotated[dict[str, Any], BoundedJson]
"""A free-form JSON object from a client, within MAX_JSON_DEPTH and MAX_JSON_BYTES."""
