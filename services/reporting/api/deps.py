"""Reporting's route dependencies: its role sets and the small input rules its routes share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends

from shared.auth import Principal, Role, require_roles
from shared.http import expected_version

Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Manager = Annotated[Principal, Depends(require_roles(Role.SERVICE_LEVEL_MANAGER))]
"""Service reporting is part of service level management: the service level manager (or an admin)
records agreements, findings and actions."""

Format = Literal["json", "csv"]


def utc(moment: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def sent_version(if_match: str | None) -> int | None:
    """The version an agreement change is based on; None when If-Match was not sent. Unlike
    `shared.deps.optional_version`, an empty If-Match is checked (412), not taken as absent."""
    return None if if_match is None else expected_version(if_match)
