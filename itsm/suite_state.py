"""What `itsm up` publishes about the suite it runs, for `itsm status`: a small JSON file.

The supervisor rewrites it (whole, by rename) whenever a service's process starts, becomes ready,
exits or is started again, and removes it when the suite stops. It holds process ids, ports,
times and restart counts: nothing of the services' records.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

DEFAULT_STATE_FILE = Path("var/up.json")

ProcessState = Literal["starting", "ready", "restarting", "stopping", "failed"]


class ServiceState(BaseModel):
    name: str
    host: str
    port: int
    state: ProcessState = "starting"
    pid: int | None = None
    started_at: float | None = None
    """When the current process started (seconds since the epoch)."""
    ready_at: float | None = None
    """When it first answered `/readyz` with 200."""
    restarts: int = 0
    last_exit: str | None = None
    """How the previous process ended, e.g. `killed by SIGKILL`."""


class SuiteState(BaseModel):
    pid: int
    """The supervisor's process (`itsm up`)."""
    started_at: float
    services: dict[str, ServiceState]

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        scratch.write_text(self.model_dump_json(indent=2))
        os.replace(scratch, path)  # a reader sees the old file or the new one, never half of one

    @property
    def supervisor_alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def read_state(path: Path) -> SuiteState | None:
    """The suite's state as its supervisor last wrote it; None when no `itsm up` runs here (no
    file, an unreadable one, or one a supervisor that died left behind)."""
    try:
        state = SuiteState.model_validate_json(path.read_text())
    except (OSError, ValidationError):
        return None
    return state if state.supervisor_alive else None


def seconds_since(moment: float | None) -> float | None:
    return None if moment is None else max(0.0, time.time() - moment)
