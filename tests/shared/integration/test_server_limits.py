"""The request-head limits of the server every service runs on: a service started as `itsm up`
starts it (its own process on a free loopback port), oversized heads and stalled clients sent at it
over plain sockets."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import httpx
import pytest

from bench.slow_clients import (
    close_all,
    fd_shortfall,
    not_ok,
    open_stalled,
    readyz_latencies,
    still_open,
    wait_closed_by_server,
    wrong_answers,
)
from itsm.registry import entry
from itsm.supervisor import service_command
from tests.conftest import TEST_JWT_SECRET
from tests.infra import Servers

MAX_HEADER_BYTES = 16_384
HEADER_TIMEOUT_S = 1.0
STALLED = 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(servers_sync: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The incident service as `itsm up` runs it, with a small header bound and deadline: (host, port).
    It needs no tables for what is asked here (`/readyz`, `/healthz`), so a fresh SQLite file will do."""
    fd_shortfall(STALLED)  # raises the limit before the server starts, so that it inherits it
    port = _free_port()
    env = {
        **os.environ,
        "INCIDENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('limits')}/incident.db",
        "ITSM_AMQP_URL": servers_sync.amqp_url,
        "ITSM_EVENTS_EXCHANGE": servers_sync.exchange,
        "ITSM_RUN_WORKER": "false",
        "ITSM_JWT_SECRET": TEST_JWT_SECRET,
        "ITSM_ENVIRONMENT": "test",
        "OTEL_TRACES_EXPORTER": "none",
        "ITSM_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        "ITSM_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
    }
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(
            service_command(entry("incident"), host="127.0.0.1", port=port), env=env, stdout=output, stderr=output
        )
        try:
            _wait_ready(proc, port, output)
            yield "127.0.0.1", port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], port: int, output: tempfile._TemporaryFileWrapper[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    output.seek(0)
    pytest.fail(f"the service did not become ready:\n{output.read().decode(errors='replace')[-3000:]}")


def _head(size: int) -> bytes:
    """A GET /healthz whose request line and headers are exactly `size` bytes, final CRLF included."""
    start = b"GET /healthz HTTP/1.1\r\nHost: limits\r\nX-Padding: "
    end = b"\r\n\r\n"
    return start + b"a" * (size - len(start) - len(end)) + end


def _exchange(address: tuple[str, int], request: bytes) -> bytes:
    """Send `request`, return everything the server answers until it closes (or 10 s pass)."""
    with socket.create_connection(address, timeout=10) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: what it answered is still to be read
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer


def _status(answer: bytes) -> int | None:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def test_a_head_at_the_bound_is_served(served: tuple[str, int]) -> None:
    assert _status(_exchange(served, _head(MAX_HEADER_BYTES))) == 200


def test_a_head_one_byte_over_the_bound_is_refused_with_431_problem_details(served: tuple[str, int]) -> None:
    answer = _exchange(served, _head(MAX_HEADER_BYTES + 1))
    assert _status(answer) == 431
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower()
    assert b"connection: close" in head.lower()
    assert b'"status":431' in body.replace(b" ", b"")
    assert str(MAX_HEADER_BYTES).encode() in body


def test_an_8_mb_header_is_refused(served: tuple[str, int]) -> None:
    answer = _exchange(served, _head(8 * 1024 * 1024))
    assert _status(answer) == 431


def test_a_header_trickled_past_the_bound_is_refused_before_it_ends(served: tuple[str, int]) -> None:
    """The bound holds while the head is still arriving: the server answers before its end."""
    with socket.create_connection(served, timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: limits\r\nX-Padding: ")
        answer = b""
        try:
            for _ in range(2 * MAX_HEADER_BYTES // 4096):
                sock.sendall(b"a" * 4096)
            sock.settimeout(10)
            while chunk := sock.recv(65536):
                answer += chunk
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert _status(answer) == 431


def test_a_connection_that_stalls_in_its_head_is_answered_408_problem_details(served: tuple[str, int]) -> None:
    with socket.create_connection(served, timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: limits\r\nX-Slow: 1")
        answer = b""
        while chunk := sock.recv(65536):  # until the server closes (the socket timeout bounds it)
            answer += chunk
    assert _status(answer) == 408
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower()
    assert b'"status":408' in body.replace(b" ", b"")


def test_a_large_body_before_a_pipelined_request_does_not_count_as_its_head(served: tuple[str, int]) -> None:
    body = b"{}" + b" " * (4 * MAX_HEADER_BYTES)
    first = b"POST /healthz HTTP/1.1\r\nHost: limits\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    with socket.create_connection(served, timeout=10) as sock:
        sock.sendall(first + b"GET /healthz HTTP/1.1\r\nHost: limits\r\n")  # the second head unfinished
        time.sleep(0.3)
        sock.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    statuses = [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]
    assert statuses == [405, 200]


@pytest.mark.asyncio(loop_scope="session")
async def test_stalled_connections_are_closed_and_readyz_answers_meanwhile(served: tuple[str, int]) -> None:
    if problem := fd_shortfall(STALLED):
        pytest.skip(problem)
    host, port = served
    connections = await open_stalled(host, port, STALLED)
    try:
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=10) as client:
            # A bound that only keeps a broken server from hanging the test; no timing is asserted.
            closing = asyncio.ensure_future(wait_closed_by_server(connections, within_s=HEADER_TIMEOUT_S + 14))
            answers = await readyz_latencies(client, until=closing)
            with contextlib.suppress(TimeoutError):  # the assertions below say what stayed open
                await closing
    finally:
        close_all(connections)
    assert still_open(connections) == 0
    assert wrong_answers(connections) == []
    assert answers and not_ok(answers) == []
