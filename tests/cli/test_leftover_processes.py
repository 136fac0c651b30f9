"""The suite's own guard: a service process a test module leaves running, orphaned or not, is found
by the run's mark and stopped, and nothing of another run is touched; a run that was killed has
its processes stopped by the next one, and a run still going keeps its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

from tests.infra import eventually
from tests.leftovers import MARK, left_running, stop_left_running, stop_orphans_of_ended_runs


def _orphan_service_process(folder: Path, run: str) -> int:
    """A process started as `python -m itsm …` (a stand-in package that sleeps) by a shell that exits
    at once, so that it is nobody's child here; its pid."""
    (folder / "itsm").mkdir(parents=True)
    (folder / "itsm" / "__init__.py").write_text("")
    (folder / "itsm" / "__main__.py").write_text("import time\ntime.sleep(120)\n")
    env = {**os.environ, MARK: run, "PYTHONPATH": str(folder)}
    shell = f"{sys.executable} -m itsm serve stand-in >/dev/null 2>&1 & echo $!"
    started = subprocess.run(["sh", "-c", shell], env=env, cwd=folder, capture_output=True, check=True)
    return int(started.stdout)


def _alive(pid: int) -> bool:
    try:
        return b"\nState:\tZ" not in Path(f"/proc/{pid}/status").read_bytes()
    except OSError:
        return False


async def test_an_orphaned_service_process_of_this_run_is_found_and_stopped(tmp_path: Path) -> None:
    ours = _orphan_service_process(tmp_path / "ours", os.environ[MARK])
    theirs = _orphan_service_process(tmp_path / "theirs", "another-run")
    try:

        async def ours_found() -> None:  # once the shell's fork has become the python process
            assert ours in left_running()

        await eventually(ours_found, within_s=30)
        assert theirs not in left_running()
        assert ours in stop_left_running()

        async def ours_gone() -> None:
            assert not _alive(ours)

        await eventually(ours_gone, within_s=10)
        assert _alive(theirs)  # another run's process is left alone
    finally:
        for pid in (ours, theirs):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _ended_pid() -> int:
    """The pid of a process that has come and gone."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    return int(done.stdout)


async def test_the_service_processes_of_a_killed_run_are_stopped_and_a_live_runs_are_not(tmp_path: Path) -> None:
    ended = _orphan_service_process(tmp_path / "ended", f"{_ended_pid()}-killedrun")
    going = _orphan_service_process(tmp_path / "going", f"{os.getpid()}-liverun")  # a test process alive
    unmarked = _orphan_service_process(tmp_path / "old", "a-mark-without-a-pid")
    try:

        async def all_started() -> None:
            assert {ended, going, unmarked} <= set(_started(tmp_path))

        await eventually(all_started, within_s=30)
        assert stop_orphans_of_ended_runs() == [ended]

        async def ended_gone() -> None:
            assert not _alive(ended)

        await eventually(ended_gone, within_s=10)
        assert _alive(going) and _alive(unmarked)
        assert ended not in left_running() and going not in left_running()  # neither is this run's
    finally:
        for pid in (ended, going, unmarked):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _started(folder: Path) -> list[int]:
    """The stand-in service processes running from `folder`'s subfolders."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        with suppress(OSError):
            if str(folder) in os.readlink(entry / "cwd") and b"itsm" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found
