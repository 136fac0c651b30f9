"""Slow clients: `/readyz` latency while 1,000 connections stall before finishing their request heads.

One incident service process (served as `itsm serve` serves it, with the header deadline set by
`--header-timeout`), on a migrated scratch PostgreSQL database, its relay and consumer running
(`--smoke`: an empty SQLite file, no relay or consumer; `/readyz` then checks the database and
the broker connection). First a baseline: `/readyz` requests one after another for a few seconds
with nothing else going on. Then the flood, on an event loop of its own: `--connections`
connections open at once; a third send nothing, a third part of a request line, a third a request
line and part of the headers; all then stall. `/readyz` is asked again, one request after another,
until the server has closed every stalled connection. Printed: the latency (p50/p99/max) without
the flood, during it (and split: while the connections open, while they all stall), and how long
after it opened the server closed each stalled connection. The latency is measured by the client,
on the same machine: it includes the client's own waits for a core.

    uv run python -m bench.slow_clients                  # 1,000 connections, a 5 s deadline
    uv run python -m bench.slow_clients --smoke          # 100 connections, a 1 s deadline (CI)

Exit status 1 when a `/readyz` answer was not 200, when a stalled connection was still open
`--grace` seconds after the deadline, or when one was answered with something else than a 408
(or anything, when it sent nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from bench.smoke import finish, parse_args

PARTIAL_HEADS: tuple[bytes, ...] = (b"", b"GET /rea", b"GET /readyz HTTP/1.1\r\nHost: slow\r\nX-Slow: 1")
"""What each stalled connection sends before it stops: nothing, part of a request line, or a
request line with part of its headers (in turn)."""
FDS_BESIDES_THE_FLOOD = 200
"""Descriptors a process needs besides the stalled connections (files, pools, the broker)."""


def fd_shortfall(connections: int) -> str | None:
    """Raise this process's soft limit on open files as far as the hard limit allows, so that
    `connections` sockets fit (child processes inherit it); None when they fit, else why not."""
    needed = connections + FDS_BESIDES_THE_FLOOD
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        ceiling = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft < needed:
        return f"{connections} connections need {needed} open files; the limit is {soft} (hard {hard}): raise ulimit -n"
    return None


@dataclass
class StalledConnection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    sent: bytes
    opened_at: float
    closed_after_s: float | None = None
    answer: bytes = b""


async def open_stalled(host: str, port: int, count: int) -> list[StalledConnection]:
    """`count` connections, each sending one of PARTIAL_HEADS and then nothing more."""

    async def one(index: int) -> StalledConnection:
        reader, writer = await asyncio.open_connection(host, port)
        sent = PARTIAL_HEADS[index % len(PARTIAL_HEADS)]
        if sent:
            writer.write(sent)
            await writer.drain()
        return StalledConnection(reader, writer, sent, time.monotonic())

    connections: list[StalledConnection] = []
    try:
        for start in range(0, count, 200):  # in batches: the listen backlog stays far from full
            connections += await asyncio.gather(*(one(i) for i in range(start, min(start + 200, count))))
    except BaseException:
        close_all(connections)
        raise
    return connections


async def wait_closed_by_server(connections: Sequence[StalledConnection], within_s: float) -> None:
    """Read each connection to its end (the server closing it); TimeoutError when some are still
    open after `within_s`. Fills in each one's answer and how long after opening it was closed."""

    async def until_closed(connection: StalledConnection) -> None:
        with contextlib.suppress(ConnectionError):  # a reset is a close too
            connection.answer = await connection.reader.read()
        connection.closed_after_s = time.monotonic() - connection.opened_at

    await asyncio.wait_for(asyncio.gather(*(until_closed(c) for c in connections)), within_s)


def flood(host: str, port: int, count: int, within_s: float) -> tuple[list[StalledConnection], float]:
    """Open `count` stalled connections and wait (up to `within_s`) for the server to close them,
    on an event loop of its own; the connections, and when the last of them was open."""

    async def run() -> tuple[list[StalledConnection], float]:
        connections = await open_stalled(host, port, count)
        all_open_at = time.monotonic()
        print(f"flood: {len(connections)} stalled connections open")
        try:
            with contextlib.suppress(TimeoutError):
                await wait_closed_by_server(connections, within_s)
        finally:
            close_all(connections)
        return connections, all_open_at

    return asyncio.run(run())


def close_all(connections: Sequence[StalledConnection]) -> None:
    for connection in connections:
        connection.writer.transport.abort()


def still_open(connections: Sequence[StalledConnection]) -> int:
    return sum(1 for c in connections if c.closed_after_s is None)


def wrong_answers(connections: Sequence[StalledConnection]) -> list[bytes]:
    """Answers other than the expected: nothing to a connection that sent nothing; a 408 to one
    that sent part of a request, or nothing either, when the server's deadline passed before what it
    sent arrived (a loaded client may write a while after the connection is accepted)."""
    return [
        c.answer[:80] for c in connections if c.answer and (not c.sent or not c.answer.startswith(b"HTTP/1.1 408 "))
    ]


def answered_408(connections: Sequence[StalledConnection]) -> int:
    return sum(1 for c in connections if c.answer.startswith(b"HTTP/1.1 408 "))


@dataclass
class Sample:
    at: float  # time.monotonic() when the request was sent
    ms: float
    status: int


async def readyz_latencies(
    client: httpx.AsyncClient, *, until: asyncio.Future[None] | None = None, seconds: float = 0
) -> list[Sample]:
    """`/readyz` one request after another, until `until` is done or for `seconds`."""
    samples: list[Sample] = []
    end = time.monotonic() + seconds
    while (until is not None and not until.done()) or (until is None and time.monotonic() < end):
        at, start = time.monotonic(), time.perf_counter()
        response = await client.get("/readyz")
        samples.append(Sample(at, (time.perf_counter() - start) * 1000, response.status_code))
        await asyncio.sleep(0.01)
    return samples


def not_ok(samples: Sequence[Sample]) -> list[int]:
    return sorted({s.status for s in samples if s.status != 200})


def summary(samples: Sequence[Sample]) -> str:
    if not samples:
        return "n=0"
    ordered = sorted(s.ms for s in samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"n={len(ordered)} p50={statistics.median(ordered):.1f} ms p99={p99:.1f} ms max={ordered[-1]:.1f} ms"


async def _measure(base_url: str, host: str, port: int, args: argparse.Namespace) -> int:
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        baseline = await readyz_latencies(client, seconds=args.baseline_seconds)
        print(f"/readyz without the flood: {summary(baseline)}")
        # The flood runs on an event loop of its own (a thread), so that opening and reading 1,000
        # connections does not delay this loop's /readyz requests.
        within_s = args.header_timeout + args.grace
        flooding = asyncio.ensure_future(asyncio.to_thread(flood, host, port, args.connections, within_s))
        during = await readyz_latencies(client, until=flooding)
        connections, all_open_at = await flooding
    print(f"/readyz during the flood:  {summary(during)}")
    print(f"  while the connections opened: {summary([s for s in during if s.at < all_open_at])}")
    print(f"  while all of them stalled:    {summary([s for s in during if s.at >= all_open_at])}")
    closed_after = [c.closed_after_s for c in connections if c.closed_after_s is not None]
    if closed_after:
        print(
            f"stalled connections closed by the server: {len(closed_after)}/{len(connections)},"
            f" {min(closed_after):.2f}-{max(closed_after):.2f} s after opening (deadline {args.header_timeout:g} s),"
            f" {answered_408(connections)} with a 408 (of {sum(1 for c in connections if c.sent)} that sent a part)"
        )
    failed = False
    if statuses := not_ok([*baseline, *during]):
        print(f"FAILED: /readyz answered {statuses}", file=sys.stderr)
        failed = True
    if still_open(connections):
        print(f"FAILED: {still_open(connections)} stalled connections still open", file=sys.stderr)
        failed = True
    if wrong := wrong_answers(connections):
        print(f"FAILED: {len(wrong)} unexpected answers, e.g. {wrong[0]!r}", file=sys.stderr)
        failed = True
    return finish(int(failed), args)


async def _main(args: argparse.Namespace) -> int:
    from bench.infra import Bench, ServerProcess

    if problem := fd_shortfall(args.connections):
        print(f"cannot run: {problem}", file=sys.stderr)
        return 2
    bench = Bench()
    failed = True
    try:
        if args.smoke:
            # /readyz needs no tables: an empty SQLite file and no relay spare CI the migrations.
            env = {
                **bench.service_env("incident", f"sqlite+aiosqlite:///{bench.workdir}/incident.db"),
                "ITSM_RUN_WORKER": "false",
            }
        else:
            env = bench.service_env("incident", await bench.create_database("incident", "incident"))
        env["ITSM_HEADER_TIMEOUT_S"] = str(args.header_timeout)
        server = ServerProcess("incident", "services.incident.app:create_app", env, bench.workdir)
        try:
            await server.wait_ready("/readyz")
            print(f"server: {' '.join(server.command[1:])} (ITSM_HEADER_TIMEOUT_S={args.header_timeout:g})")
            status = await _measure(server.base_url, "127.0.0.1", server.port, args)
            failed = status != 0
            return status
        finally:
            await server.stop()
    finally:
        await bench.cleanup(keep_logs=failed)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=1000, help="stalled connections at once")
    parser.add_argument("--header-timeout", type=float, default=5.0, help="the server's ITSM_HEADER_TIMEOUT_S")
    parser.add_argument("--baseline-seconds", type=float, default=5.0, help="how long to measure without the flood")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds past the deadline before giving up")
    # --smoke: 100 connections, a 1 s deadline
    args = parse_args(
        parser, list(argv) if argv is not None else None, connections=100, header_timeout=1.0, baseline_seconds=1.0
    )
    sys.exit(asyncio.run(_main(args)))


if __name__ == "__main__":
    main()
