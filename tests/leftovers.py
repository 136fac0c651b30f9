"""Service processes a test module left running are stopped when the module ends, so that one
failed end-to-end test cannot hold ports, database connections and queue consumers through the rest
of the run. Every process the suite starts inherits `ITSM_TEST_RUN` from the test process (set at
import), and so do the children of `itsm up` and `itsm serve --workers`, orphaned or not."""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from pathlib import Path

MARK = "ITSM_TEST_RUN"
os.environ.setdefault(MARK, uuid.uuid4().hex)


def _is_service_process(argv: list[bytes]) -> bool:
    """`python -m itsm …` or the `itsm` script."""
    return (len(argv) > 2 and argv[1:3] == [b"-m", b"itsm"]) or (len(argv) > 1 and argv[1].endswith(b"/itsm"))


def left_running() -> list[int]:
    """Service processes of this run still alive, not counting this one."""
    marker = f"{MARK}={os.environ[MARK]}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if int(entry.name) == os.getpid() or marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if _is_service_process((entry / "cmdline").read_bytes().split(b"\0")):
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue  # gone meanwhile, or not ours to read
    return found


def stop_left_running() -> list[int]:
    """SIGKILL every service process of this run still alive; their pids."""
    stopped = left_running()
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return stopped
