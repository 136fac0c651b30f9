"""The live feed: events reporting has just recorded, fanned out to the open dashboard streams.

In process and in memory on purpose. The consumer publishes here after its transaction commits
(`UnitOfWork.after_commit`), so a dashboard that re-queries a report on a notification sees the
event counted. Each process feeds only the streams it serves: with several replicas a browser
hears about the events its own replica consumed (competing consumers share the queue), which is
enough to trigger a refresh; the page also refreshes on a timer. An API process started without
its worker (`RUN_WORKER=false`) consumes nothing and so streams only keep-alives.

A slow reader never holds up the consumer: its queue is bounded, and when it overflows the queue
is emptied and the reader is told to re-read everything (`resync`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime

from shared.events import CloudEvent


@dataclass(frozen=True)
class LiveEvent:
    """What a dashboard needs to know to decide which panels to refresh (not the event's data)."""

    id: str
    type: str
    subject: str | None
    time: datetime

    @classmethod
    def of(cls, event: CloudEvent) -> LiveEvent:
        return cls(id=str(event.id), type=event.type, subject=event.subject, time=event.time)

    def as_sse(self) -> str:
        body = json.dumps({"id": self.id, "type": self.type, "subject": self.subject, "time": self.time.isoformat()})
        return f"event: recorded\nid: {self.id}\ndata: {body}\n\n"


RESYNC = "event: resync\ndata: {}\n\n"
"""Sent instead of the events a reader missed because its queue overflowed."""


class Subscription:
    def __init__(self, queue_size: int, subject: str | None = None) -> None:
        self.subject = subject
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=queue_size)

    def offer(self, message: str) -> None:
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(RESYNC)

    def end(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next(self, timeout_s: float) -> str | None:
        """The next message; "" after `timeout_s` with nothing to say; None once the feed has closed."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            return ""


class TooManyReaders(Exception):
    pass


class TooManyStreamsOfSubject(TooManyReaders):
    """One subject holds its share of the process's streams already."""

    def __init__(self, subject: str, limit: int) -> None:
        super().__init__(f"{subject} has {limit} live streams open already, the most one subject may hold")
        self.limit = limit


class LiveFeed:
    def __init__(self, *, queue_size: int = 256) -> None:
        self._queue_size = queue_size
        self._subscriptions: set[Subscription] = set()
        self._by_subject: dict[str, int] = {}

    @property
    def readers(self) -> int:
        return len(self._subscriptions)

    def broadcast(self, event: LiveEvent) -> None:
        if not self._subscriptions:
            return
        message = event.as_sse()
        for subscription in self._subscriptions:
            subscription.offer(message)

    def subscribe(
        self, *, max_readers: int, subject: str | None = None, max_per_subject: int | None = None
    ) -> Subscription:
        """A new reader; `unsubscribe` it when its stream ends. `subject` holds at most `max_per_subject`
        of the process's `max_readers` streams (`TooManyStreamsOfSubject`), so one caller cannot take them all."""
        if subject is not None and max_per_subject is not None and self._by_subject.get(subject, 0) >= max_per_subject:
            raise TooManyStreamsOfSubject(subject, max_per_subject)
        if len(self._subscriptions) >= max_readers:
            raise TooManyReaders(f"{max_readers} live streams are open already")
        subscription = Subscription(self._queue_size, subject)
        self._subscriptions.add(subscription)
        if subject is not None:
            self._by_subject[subject] = self._by_subject.get(subject, 0) + 1
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription not in self._subscriptions:
            return
        self._subscriptions.discard(subscription)
        if subscription.subject is not None:
            left = self._by_subject[subscription.subject] - 1
            if left:
                self._by_subject[subscription.subject] = left
            else:
                del self._by_subject[subscription.subject]

    def close(self) -> None:
        """End every open stream (the process is stopping)."""
        for subscription in self._subscriptions:
            subscription.end()


FEED = LiveFeed()
"""The process's feed: the worker's handler publishes, the stream route subscribes."""
