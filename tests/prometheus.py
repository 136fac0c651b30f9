"""A real Prometheus (Debian package `prometheus`) for tests: started on a free loopback port with
a config the test writes, ready when `/-/ready` answers, stopped (SIGTERM) at the end; a test
may stop it and start it again on the same port and storage (`Prometheus.stop` / `start`).
Tests that need it skip when the binary is absent (`.ci/run` installs it); bench/capacity.py
runs its Prometheus with it too."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import httpx

BINARY = shutil.which("prometheus")


def skip_without_prometheus() -> None:
    import pytest  # here only: bench/capacity.py starts its Prometheus with this module too

    if BINARY is None:
        pytest.skip(
            "the Prometheus binary is absent: apt-get install prometheus (.ci/run does it)", allow_module_level=True
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Prometheus:
    """One Prometheus server of a test: `config` is the prometheus.yml text, `folder` holds it,
    the TSDB and the log."""

    def __init__(self, config: str, folder: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        self.config = folder / "prometheus.yml"
        self.config.write_text(config)
        self.log = folder / "prometheus.log"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        assert BINARY is not None and self._process is None
        with self.log.open("a") as log:
            self._process = await asyncio.create_subprocess_exec(
                BINARY,
                f"--config.file={self.config}",
                f"--storage.tsdb.path={self.folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        await self._until_ready()

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def __aenter__(self) -> Prometheus:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _until_ready(self) -> None:
        process = self._process
        assert process is not None
        async with httpx.AsyncClient(base_url=self.base, timeout=1) as client:
            for _ in range(300):  # ready in ~0.1 s when the machine is idle
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/-/ready")).status_code == 200:
                        return
                if process.returncode is not None:
                    break
                await asyncio.sleep(0.1)
        output = await asyncio.to_thread(self.log.read_text)
        raise RuntimeError(f"prometheus not ready (exit code {process.returncode}):\n{output}")


async def query(client: httpx.AsyncClient, promql: str) -> list[dict[str, Any]]:
    """An instant query's result (an AssertionError while Prometheus does not answer yet)."""
    try:
        r = await client.get("/api/v1/query", params={"query": promql})
    except httpx.TransportError as exc:
        raise AssertionError(f"Prometheus not answering yet: {exc!r}") from exc
    assert r.status_code == 200, f"{promql}: {r.text}"
    body = r.json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


async def value(client: httpx.AsyncClient, promql: str) -> float:
    result = await query(client, promql)
    assert len(result) == 1, f"{promql}: {result}"
    return float(result[0]["value"][1])
