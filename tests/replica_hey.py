"""A second load beside the harness's own client, from a load tool: hey (Debian's `hey`) creating
incidents at each incident API replica, at a bounded rate, through the whole load phase and its
rolling restart.

hey knows nothing of replicas: while a replica is down it only counts refused connections (nothing
was sent). Every request goes on a new connection (`-disable-keepalive`), so a request sent and not
answered is a request the server dropped, never a kept-alive connection closed under it; Go's
client does not send a POST again. What must hold: no such drop, every answer a 201, and exactly as
many incidents in the database (caller `HEY_CALLER`) as hey saw created, no more (a dropped request
that was handled anyway) and no fewer.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field

HEY = shutil.which("hey")
HEY_CALLER = "hey-load"
SEGMENT_S = 5
"""hey runs for a set time: the load phase, whose length the restart decides, is covered by
runs of this many seconds, one after the other, until it ends."""
RATE_PER_WORKER = 4
WORKERS = 2
INCIDENT = {"title": "from hey", "caller": HEY_CALLER, "impact": 3, "urgency": 3}

_STATUS = re.compile(r"^\s*\[(\d{3})\]\s+(\d+) responses", re.MULTILINE)
_ERROR = re.compile(r"^\s*\[(\d+)\]\s+(.+)$", re.MULTILINE)


@dataclass
class HeyCounts:
    runs: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    refused: int = 0
    """Connections refused: nothing was sent (the replica was down)."""
    dropped: int = 0
    """Any other error: a request sent that got no answer."""
    in_database: int = 0
    samples: list[str] = field(default_factory=list)

    @property
    def created(self) -> int:
        return self.statuses[201]

    @property
    def clean(self) -> bool:
        return self.dropped == 0 and set(self.statuses) <= {201} and self.in_database == self.created

    def describe(self) -> str:
        other = {s: n for s, n in self.statuses.items() if s != 201}
        line = (
            f"hey: {self.runs} runs, {self.created} incidents created ({self.in_database} in the database),"
            f" other answers {other or 0}, refused connections {self.refused}, requests dropped {self.dropped}"
        )
        return "\n".join([line, *(f"  hey: {sample}" for sample in self.samples)])


def read_summary(output: str, counts: HeyCounts) -> None:
    """Add what one hey run printed: its status code and error distributions."""
    counts.runs += 1
    statuses, _, errors = output.partition("Error distribution:")
    for code, n in _STATUS.findall(statuses):
        counts.statuses[int(code)] += int(n)
    for n, error in _ERROR.findall(errors):
        if "connection refused" in error:
            counts.refused += int(n)
        else:
            counts.dropped += int(n)
            if len(counts.samples) < 10:
                counts.samples.append(f"[{n}] {error.strip()[:200]}")


def command(url: str, token: str, seconds: float) -> list[str]:
    assert HEY is not None
    return [
        HEY,
        *("-z", f"{seconds:g}s", "-c", str(WORKERS), "-q", str(RATE_PER_WORKER), "-t", "30"),
        *("-m", "POST", "-T", "application/json", "-H", f"Authorization: Bearer {token}"),
        *("-d", json.dumps(INCIDENT), "-disable-keepalive", f"{url}/api/v1/incidents"),
    ]


async def _run(url: str, token: str, seconds: float, counts: HeyCounts) -> None:
    process = await asyncio.create_subprocess_exec(
        *command(url, token, seconds), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    read_summary(output.decode(errors="replace"), counts)


async def load_until(stop: asyncio.Event, urls: list[str], token: str, counts: HeyCounts) -> None:
    """hey at every URL at once, in runs of `SEGMENT_S`, until `stop` is set (the last run ends)."""
    while not stop.is_set():
        await asyncio.gather(*(_run(url, token, SEGMENT_S, counts) for url in urls))
