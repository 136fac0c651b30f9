"""The unit of work: one transaction for a state change and the events it causes.

Use cases open `async with uow:`, change state through the service's repositories
(`uow.repository(ChangeRepository)`), call `uow.emit(event)` for each integration event, and
`await uow.commit()`. Commit writes the events into the outbox in the same transaction, then wakes
the relay. Nothing here talks to the broker. Use cases are typed against `AnyUnitOfWork`, which
`shared.testing.FakeUnitOfWork` also satisfies (use cases tested without a database).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar, cast
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.events import CloudEvent, EventData, new_event
from shared.outbox import write_events


class Aggregate(Protocol):
    """A domain object that records what happened to it until the unit of work emits it."""

    @property
    def id(self) -> UUID: ...

    @property
    def pending_events(self) -> list[Any]: ...


R = TypeVar("R")


class AnyUnitOfWork(Protocol):
    """What a use case may ask of a unit of work: the real one below, or a fake in tests."""

    @property
    def connection(self) -> AsyncConnection: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def repository(self, kind: type[R]) -> R: ...

    def emit(self, data: EventData, *, subject: str) -> CloudEvent: ...

    def emit_pending(self, aggregate: Aggregate, to_contract: Callable[[Any, Any], EventData | None]) -> None: ...

    def after_commit(self, callback: Callable[[], None]) -> None: ...

    def mark(self) -> int: ...

    def discard_since(self, mark: int) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table,
        *,
        source: str,
        on_commit: Callable[[], None] = lambda: None,
        settings: Any = None,
    ) -> None:
        self._engine = engine
        # The service's settings, for consumers whose rules are configurable (a handler gets
        # only the event and the unit of work).
        self.settings = settings
        self._outbox = outbox
        self._source = source
        self._on_commit = on_commit
        self._conn: AsyncConnection | None = None
        self._events: list[CloudEvent] = []
        self._after_commit: list[Callable[[], None]] = []
        self._repositories: dict[type[Any], Any] = {}

    @property
    def connection(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    async def __aenter__(self) -> Self:
        self._conn = await self._engine.connect()
        await self._conn.begin()
        self._events = []
        self._after_commit = []
        self._repositories = {}
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        conn, self._conn = self._conn, None
        self._repositories = {}
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()

    def repository(self, kind: type[R]) -> R:
        """The `kind` repository (a class built from a connection) on this transaction's connection,
        built once per `async with` block."""
        conn = self.connection
        if kind not in self._repositories:
            self._repositories[kind] = cast(Callable[[AsyncConnection], R], kind)(conn)
        return cast(R, self._repositories[kind])

    def emit(self, data: EventData, *, subject: str) -> CloudEvent:
        event = new_event(data, source=self._source, subject=subject)
        self._events.append(event)
        return event

    def emit_pending(self, aggregate: Aggregate, to_contract: Callable[[Any, Any], EventData | None]) -> None:
        """Turn the aggregate's domain events into contracts (subject: its id) and clear them; a
        domain event `to_contract` maps to None emits nothing."""
        for event in aggregate.pending_events:
            contract = to_contract(event, aggregate)
            if contract is not None:
                self.emit(contract, subject=str(aggregate.id))
        aggregate.pending_events.clear()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed (never if it rolls back): for in-process
        notifications that must not announce what a reader cannot see yet."""
        self._after_commit.append(callback)

    def mark(self) -> int:
        """A point to come back to with `discard_since` (for work undone by a savepoint rollback)."""
        return len(self._events)

    def discard_since(self, mark: int) -> None:
        del self._events[mark:]

    async def commit(self) -> None:
        conn = self.connection
        events, self._events = self._events, []
        await write_events(conn, self._outbox, events)
        await conn.commit()
        if events:
            self._on_commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def rollback(self) -> None:
        self._events = []
        self._after_commit = []
        await self.connection.rollback()


if TYPE_CHECKING:
    _real_is_one: type[AnyUnitOfWork] = UnitOfWork  # mypy proves the real one satisfies the protocol
