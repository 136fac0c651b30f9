"""Service processes a test module left running are stopped when the module ends, so that one
failed end-to-end test cannot hold ports, database connections and queue consumers through the rest
of the run. Every process the suite starts inherits `ITSM_TEST_RUN` from the test process (set at
import), and so do the children of `itsm up` and `itsm serve --workers`, orphaned or not.

The mark begins with the test process's pid. A run that was killed (a CI job stopped, a session
ended) could not stop what it started, and those processes would go on polling PostgreSQL and
RabbitMQ through the next run on the same machine: a run begins by stopping every service process
whose mark names a test process no longer alive (`stop_orphans_of_ended_runs`)."""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from pathlib import Path

MARK = "ITSM_TEST_RUN"
os.environ.setdefault(MARK, f"{os.getpid()}-{uuid.uuid4().hex[:12]}")


def _is_service_process(argv: list[bytes]) -> bool:
    """`python -m itsm …` or the `itsm` script."""
    return (len(argv) > 2 and argv[1:3] == [b"-m", b"itsm"]) or (len(argv) > 1 and argv[1].endswith(b"/itsm"))


def _service_processes() -> dict[int, str]:
    """Every service process started by a test run, not counting this one -> its run's mark."""
    prefix = f"{MARK}=".encode()
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if int(entry.name) == os.getpid():
                continue
            marks = [v for v in (entry / "environ").read_bytes().split(b"\0") if v.startswith(prefix)]
            if marks and _is_service_process((entry / "cmdline").read_bytes().split(b"\0")):
                found[int(entry.name)] = marks[0][len(prefix) :].decode(errors="replace")
        except (OSError, ValueError):
            continue  # gone meanwhile, or not ours to read
    return found


def left_running() -> list[int]:
    """Service processes of this run still alive, not counting this one."""
    return [pid for pid, run in _service_processes().items() if run == os.environ[MARK]]


def _run_ended(run: str) -> bool:
    """Whether the test process that `run` names is gone (a mark without a pid is never judged)."""
    pid, _, _ = run.partition("-")
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _kill(pids: list[int]) -> list[int]:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids


def stop_left_running() -> list[int]:
    """SIGKILL every service process of this run still alive; their pids."""
    return _kill(left_running())


def stop_orphans_of_ended_runs() -> list[int]:
    """SIGKILL every service process of a test run whose test process is gone; their pids. The
    processes of a run still going (another checkout's, beside this one) are left alone."""
    return _kill([pid for pid, run in _service_processes().items() if run != os.environ[MARK] and _run_ended(run)])
