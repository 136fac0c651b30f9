"""What every controlled record shares: field diffs as JSON values (ISO/IEC 20000-1 4.3.3) and the
version an edit is based on."""

from __future__ import annotations

from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from shared.errors import PreconditionFailed

Changes = dict[str, tuple[Any, Any]]
"""field -> (old, new), JSON-ready."""


def jsonable(value: Any) -> Any:
    """A value as it is recorded in history and events: enums, ids, dates and decimals as text."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> Changes:
    return {name: (before[name], after[name]) for name in before if before[name] != after[name]}


@dataclass(frozen=True)
class Edit:
    """Who changes a record, and the version they read (If-Match; None where it is optional)."""

    actor: str
    expected_version: int | None = None

    def check(self, number: str, version: int) -> None:
        if self.expected_version is not None and self.expected_version != version:
            raise PreconditionFailed(
                f"{number} is at version {version}, not {self.expected_version}; read it again",
                current_version=version,
            )
