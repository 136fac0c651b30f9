"""What several `itsm` commands take: a service named on the command line, and its settings."""

from __future__ import annotations

from typing import Annotated

import typer

from itsm.registry import SERVICE_NAMES, entry
from shared.settings import ServiceSettings

ServiceArg = Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICE_NAMES)}")]


def settings_of(service: str) -> ServiceSettings:
    """The service's settings, or a usage error naming what is not a service."""
    try:
        return entry(service).settings()
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0])) from None
