"""Fakes for testing use cases without a database or a broker: a unit of work, an event sink, and
the pieces in-memory repositories are built from (tests with fakes, not mocks).

    sink = InMemoryEventSink()
    uow = FakeUnitOfWork({ChangeRepository: FakeChangeRepository()}, sink=sink)
    await usecases.submit(cmd, uow)
    assert sink.of_type(ChangeSubmitted) == [...]

The fake keeps the real unit of work's rules: events reach the sink only on commit, a rollback or an
exception discards them with the staged writes, after-commit callbacks run only after a commit.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Protocol, Self, TypeVar, cast, runtime_checkable

from shared.events import CloudEvent, EventData, new_event
from shared.uow import Aggregate, AnyUnitOfWork

R = TypeVar("R")
D = TypeVar("D", bound=EventData)
K = TypeVar("K")
V = TypeVar("V")


class InMemoryEventSink:
    """What a fake unit of work published, in commit order: the broker as a test sees it."""

    def __init__(self) -> None:
        self.events: list[CloudEvent] = []

    def publish(self, events: list[CloudEvent]) -> None:
        self.events.extend(events)

    def __iter__(self) -> Iterator[CloudEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    @property
    def routing_keys(self) -> list[str]:
        return [e.routing_key for e in self.events]

    def of_type(self, data_class: type[D]) -> list[D]:
        """The data of the published events of this contract, parsed as consumers would."""
        return [e.data_as(data_class) for e in self.events if e.type == data_class.event_type()]

    def about(self, subject: object) -> list[CloudEvent]:
        """The events whose subject is `subject` (an aggregate's id, say)."""
        return [e for e in self.events if e.subject == str(subject)]

    def clear(self) -> None:
        self.events.clear()


class InMemoryTable(Generic[K, V]):
    """Rows of a fake repository: writes are staged until the unit of work commits and dropped on
    rollback; values are copied in and out, so nobody changes stored state behind the repository."""

    def __init__(self, rows: Mapping[K, V] | None = None) -> None:
        self._rows: dict[K, V] = {k: copy.deepcopy(v) for k, v in (rows or {}).items()}
        self._staged: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        found = self._staged.get(key, self._rows.get(key))
        return copy.deepcopy(found)

    def __contains__(self, key: object) -> bool:
        return key in self._staged or key in self._rows

    def put(self, key: K, value: V) -> None:
        self._staged[key] = copy.deepcopy(value)

    def values(self) -> list[V]:
        """Every row as this transaction sees it, in the order first written."""
        return [copy.deepcopy(v) for v in {**self._rows, **self._staged}.values()]

    def commit(self) -> None:
        self._rows.update(self._staged)
        self._staged = {}

    def rollback(self) -> None:
        self._staged = {}


@runtime_checkable
class Transactional(Protocol):
    """A fake repository whose staged writes follow the unit of work's commit and rollback."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class FakeRepository:
    """Base of in-memory repositories: each `InMemoryTable` attribute commits and rolls back with
    the fake unit of work."""

    def _tables(self) -> list[InMemoryTable[Any, Any]]:
        return [v for v in vars(self).values() if isinstance(v, InMemoryTable)]

    def commit(self) -> None:
        for table in self._tables():
            table.commit()

    def rollback(self) -> None:
        for table in self._tables():
            table.rollback()


class NoConnection(RuntimeError):
    """A use case asked the fake unit of work for its database connection."""


def missing_methods(kind: type[Any], fake: object) -> list[str]:
    """The public methods of the real repository `kind` that `fake` lacks (a fake that drifted)."""
    public = [n for n, v in vars(kind).items() if callable(v) and not n.startswith("_")]
    return [n for n in public if not callable(getattr(fake, n, None))]


class FakeUnitOfWork:
    """A unit of work over in-memory repositories, publishing to an `InMemoryEventSink`.

    `repositories` maps each real repository class a use case asks for (`uow.repository(kind)`) to
    its fake; the fakes are the database, so they live as long as the fake unit of work."""

    def __init__(
        self,
        repositories: Mapping[type[Any], object] | None = None,
        *,
        sink: InMemoryEventSink | None = None,
        source: str = "tests",
        settings: Any = None,
    ) -> None:
        for kind, fake in (repositories or {}).items():
            if missing := missing_methods(kind, fake):
                raise TypeError(f"{type(fake).__name__} fakes {kind.__name__} but lacks {', '.join(missing)}")
        self._repositories = dict(repositories or {})
        self.sink = sink if sink is not None else InMemoryEventSink()
        self.settings = settings
        self._source = source
        self._open = False
        self._events: list[CloudEvent] = []
        self._after_commit: list[Callable[[], None]] = []
        self.committed = 0
        """How many times a transaction was committed (a refused action leaves it unchanged)."""

    @property
    def connection(self) -> NoReturn:
        raise NoConnection(
            "FakeUnitOfWork has no database connection: this use case still reads or writes through"
            " uow.connection; give it a repository (uow.repository(kind)) to test it with fakes"
        )

    async def __aenter__(self) -> Self:
        if self._open:
            raise RuntimeError("the unit of work is already open")
        self._open = True
        self._events = []
        self._after_commit = []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._open:
            return
        self._open = False
        self._discard()

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("the unit of work is not open")

    def repository(self, kind: type[R]) -> R:
        self._check_open()
        if kind not in self._repositories:
            raise LookupError(
                f"no fake for {kind.__name__}: pass FakeUnitOfWork(repositories={{{kind.__name__}: ...}})"
            )
        return cast(R, self._repositories[kind])

    def emit(self, data: EventData, *, subject: str) -> CloudEvent:
        event = new_event(data, source=self._source, subject=subject)
        self._events.append(event)
        return event

    def emit_pending(self, aggregate: Aggregate, to_contract: Callable[[Any, Any], EventData | None]) -> None:
        for event in aggregate.pending_events:
            contract = to_contract(event, aggregate)
            if contract is not None:
                self.emit(contract, subject=str(aggregate.id))
        aggregate.pending_events.clear()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def mark(self) -> int:
        return len(self._events)

    def discard_since(self, mark: int) -> None:
        del self._events[mark:]

    @property
    def pending(self) -> list[CloudEvent]:
        """The events emitted in the open transaction, not yet committed."""
        return list(self._events)

    async def commit(self) -> None:
        self._check_open()
        events, self._events = self._events, []
        for fake in self._transactional():
            fake.commit()
        self.committed += 1
        self.sink.publish(events)
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def rollback(self) -> None:
        self._check_open()
        self._discard()

    def _discard(self) -> None:
        self._events = []
        self._after_commit = []
        for fake in self._transactional():
            fake.rollback()

    def _transactional(self) -> list[Transactional]:
        return [f for f in self._repositories.values() if isinstance(f, Transactional)]


if TYPE_CHECKING:
    _fake_is_one: type[AnyUnitOfWork] = FakeUnitOfWork  # mypy proves the fake satisfies the protocol
