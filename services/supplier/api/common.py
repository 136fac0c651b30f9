"""What the supplier routes share: roles and the If-Match header."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from shared.auth import READ_ROLES, Principal, Role, require_roles

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Manager = Annotated[Principal, Depends(require_roles(Role.SUPPLIER_MANAGER))]
IfMatch = Annotated[str | None, Header(description='The ETag read, e.g. W/"3"')]
