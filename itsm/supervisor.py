"""`itsm up`: every service as its own process on one machine, output prefixed per service."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from itsm.registry import ServiceEntry

COLOURS = {"incident": "red", "change": "yellow", "config": "green", "supplier": "magenta", "reporting": "cyan"}


async def _pump(entry: ServiceEntry, stream: asyncio.StreamReader, console: Console) -> None:
    width = max(len(n) for n in COLOURS)
    while line := await stream.readline():
        prefix = Text(f"{entry.name:<{width}} | ", style=COLOURS.get(entry.name, "white"))
        console.print(prefix + Text(line.decode(errors="replace").rstrip()), soft_wrap=True, highlight=False)


def service_command(entry: ServiceEntry, *, host: str, port: int) -> list[str]:
    """How `itsm up` starts one service: the command line of its process (`itsm serve`)."""
    return [
        sys.executable,
        "-m",
        "itsm",
        "serve",
        entry.name,
        "--host",
        host,
        "--port",
        str(port),
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "10",
    ]


async def run_all(entries: Sequence[ServiceEntry], *, host: str, console: Console) -> int:
    """Start every service (`itsm serve`), relay their output, stop them all on Ctrl-C or when one dies."""
    processes: list[tuple[ServiceEntry, asyncio.subprocess.Process]] = []
    pumps: list[asyncio.Task[None]] = []
    for entry in entries:
        port = entry.settings().port
        proc = await asyncio.create_subprocess_exec(
            *service_command(entry, host=host, port=port),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert proc.stdout is not None
        processes.append((entry, proc))
        pumps.append(asyncio.create_task(_pump(entry, proc.stdout, console)))
        console.print(f"[bold]{entry.name}[/] on http://{host}:{port} (docs at /docs)")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waiters = {asyncio.create_task(p.wait()): e for e, p in processes}
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({*waiters, stopper}, return_when=asyncio.FIRST_COMPLETED)
    exit_code = 0
    for task in done:
        if task in waiters:
            console.print(f"[bold red]{waiters[task].name} exited with {task.result()}; stopping the suite[/]")
            exit_code = 1
    console.print("stopping…")
    for _, proc in processes:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.gather(*(p.wait() for _, p in processes)), 20)
    except TimeoutError:
        for _, proc in processes:
            if proc.returncode is None:
                proc.kill()
    await asyncio.gather(*pumps, return_exceptions=True)
    stopper.cancel()
    return exit_code


async def broker_reachable(url: str, within_s: float = 3.0) -> str | None:
    """None when the broker answers; otherwise why not, in a few words."""
    import logging

    import aio_pika

    logging.getLogger("aiormq").setLevel(logging.CRITICAL)  # the one-line answer below says it all
    try:
        connection = await asyncio.wait_for(aio_pika.connect(url), within_s)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    await connection.close()
    return None
