"""What SQLAlchemy compiled, per engine: every statement it executed without taking its compiled
form from the engine's cache (`[generated in ...]`, `[no key ...]` in echo logging), as
`execution context.cache_hit` reports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class CompiledStatements:
    """Listens to `engine` until `close()`; `compiled` holds (status, SQL) of each statement
    executed since the last `clear()` that the cache did not answer."""

    engine: AsyncEngine
    compiled: list[tuple[str, str]] = field(default_factory=list)
    executed: int = 0

    def __post_init__(self) -> None:
        event.listen(self.engine.sync_engine, "after_cursor_execute", self._after)

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not isinstance(context, DefaultExecutionContext) or context.compiled is None or context.isddl:
            return  # driver-level SQL (`exec_driver_sql`) and DDL: nothing SQLAlchemy compiles per call
        self.executed += 1
        status = context.cache_hit
        if status is not CacheStats.CACHE_HIT:
            self.compiled.append((status.name, " ".join(statement.split())))

    def clear(self) -> None:
        self.compiled.clear()
        self.executed = 0

    def close(self) -> None:
        event.remove(self.engine.sync_engine, "after_cursor_execute", self._after)
