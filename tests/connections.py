"""Which asyncio task holds which pooled connection: a test's check that no task ever holds two at
once (docs/architecture.md, "Connections"), whatever path took them (routes, use cases,
consumers, the relay, periodic jobs)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_OURS = {"services", "shared", "tests"}
"""The folders whose frames say what a task was doing (not the event loop's, nor the libraries')."""


class ConnectionsPerTask:
    """Watches an engine's pool; `second_checkouts` names each task that checked out a connection
    while it held one, with the stack of what it was doing."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._pool = engine.sync_engine.pool
        self._held: dict[int, asyncio.Task[Any] | None] = {}
        self.second_checkouts: list[str] = []
        event.listen(self._pool, "checkout", self._checkout)
        event.listen(self._pool, "checkin", self._checkin)

    def close(self) -> None:
        event.remove(self._pool, "checkout", self._checkout)
        event.remove(self._pool, "checkin", self._checkin)

    def _checkout(self, _dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        task = asyncio.current_task()
        if task is not None and task in self._held.values():
            frames = [f for f in task.get_stack() if _OURS.intersection(Path(f.f_code.co_filename).parts)]
            where = " -> ".join(f"{f.f_code.co_name} ({Path(f.f_code.co_filename).name})" for f in frames)
            self.second_checkouts.append(f"{task.get_name()}: {where}")
        self._held[id(record)] = task

    def _checkin(self, _dbapi_connection: Any, record: Any) -> None:
        self._held.pop(id(record), None)
