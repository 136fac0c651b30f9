"""The in-process live feed behind the dashboard's stream: fan-out, slow readers, limits, closing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from services.reporting.store.live import RESYNC, LiveEvent, LiveFeed, TooManyReaders, TooManyStreamsOfSubject

pytestmark = pytest.mark.asyncio(loop_scope="session")


def event(n: int) -> LiveEvent:
    return LiveEvent(id=str(uuid.UUID(int=n)), type="itsm.incident.created.v1", subject="s", time=datetime.now(UTC))


async def test_every_reader_gets_each_event_as_a_server_sent_event() -> None:
    feed = LiveFeed()
    a, b = feed.subscribe(max_readers=5), feed.subscribe(max_readers=5)
    feed.broadcast(event(1))
    for reader in (a, b):
        message = await reader.next(1)
        assert message is not None
        lines = message.splitlines()
        assert lines[0] == "event: recorded" and message.endswith("\n\n")
        assert json.loads(lines[2].removeprefix("data: "))["type"] == "itsm.incident.created.v1"
    assert await a.next(0.01) == ""  # nothing more: the stream sends a keep-alive instead
    feed.unsubscribe(a)
    assert feed.readers == 1


async def test_a_reader_that_falls_behind_is_told_to_resync_instead_of_holding_up_the_consumer() -> None:
    feed = LiveFeed(queue_size=3)
    reader = feed.subscribe(max_readers=5)
    for n in range(10):
        feed.broadcast(event(n))  # never blocks
    assert await reader.next(1) == RESYNC


async def test_readers_are_bounded_and_closing_ends_every_stream() -> None:
    feed = LiveFeed()
    reader = feed.subscribe(max_readers=1)
    with pytest.raises(TooManyReaders):
        feed.subscribe(max_readers=1)
    feed.close()
    assert await reader.next(1) is None


async def test_one_subject_holds_at_most_its_share_and_a_closed_stream_frees_a_slot() -> None:
    feed = LiveFeed()
    first = feed.subscribe(max_readers=10, subject="alice", max_per_subject=2)
    feed.subscribe(max_readers=10, subject="alice", max_per_subject=2)
    with pytest.raises(TooManyStreamsOfSubject):
        feed.subscribe(max_readers=10, subject="alice", max_per_subject=2)
    feed.subscribe(max_readers=10, subject="bob", max_per_subject=2)  # another subject is unaffected
    feed.unsubscribe(first)
    feed.unsubscribe(first)  # twice is harmless
    feed.subscribe(max_readers=10, subject="alice", max_per_subject=2)
    assert feed.readers == 3
