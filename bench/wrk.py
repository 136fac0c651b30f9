"""Run wrk (closed loop, fixed concurrency) with bench/post.lua and read its JSON summary."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent / "post.lua"

INCIDENT_BODY = json.dumps(
    {
        "title": "Mail is down for the third floor",
        "description": "Outlook cannot reach the server since 09:12; webmail works.",
        "caller": "bob@example.com",
        "channel": "phone",
        "impact": 2,
        "urgency": 1,
    }
)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    non2xx: int
    errors: int  # socket connect/read/write errors and timeouts
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    first_bad: str

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "rps": round(self.rps, 1),
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "non2xx": self.non2xx,
            "errors": self.errors,
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
        }


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    return path


async def run_wrk(
    url: str, *, token: str, duration_s: float, connections: int, threads: int = 1, body: str = INCIDENT_BODY
) -> WrkResult:
    """One bounded wrk run; raises when wrk fails or does not finish in time."""
    args = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{duration_s:g}s", "--timeout", "10s"]
    args += ["--latency", "-s", str(SCRIPT), url]
    proc = await asyncio.create_subprocess_exec(
        *args,
        env={**os.environ, "BENCH_BODY": body, "BENCH_TOKEN": token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=duration_s + 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"wrk did not finish within {duration_s + 30}s") from None
    except asyncio.CancelledError:
        proc.kill()
        await proc.wait()
        raise
    text = out.decode(errors="replace")
    summary = next((ln for ln in text.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or summary is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{text}")
    data = json.loads(summary.removeprefix("BENCH_JSON "))
    bad_lines = [ln.removeprefix("BENCH_FIRST_BAD ") for ln in text.splitlines() if ln.startswith("BENCH_FIRST_BAD")]
    first_bad = bad_lines[0] if bad_lines else ""
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return WrkResult(
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        non2xx=data["non2xx"],
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        first_bad=first_bad,
    )
