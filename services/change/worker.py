"""What the change service consumes: nothing yet. Its queue is bound to exactly these keys."""

from __future__ import annotations

from collections.abc import Mapping

from shared.messaging import Handler

HANDLERS: Mapping[str, Handler] = {}
