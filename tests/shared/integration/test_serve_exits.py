"""A service that cannot start exits, so that whoever started it (`itsm up`, a container
runtime) sees it and can start it again; it used to hang there for good."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from pathlib import Path

from itsm.registry import entry
from itsm.supervisor import service_command
from tests.conftest import TEST_JWT_SECRET
from tests.infra import Servers


def test_a_service_that_cannot_listen_exits_with_a_failure_status(servers_sync: Servers, tmp_path: Path) -> None:
    """Its port is taken: the app has started (and begun connecting to the broker) when the bind
    fails, and the broker connection still being made must not keep the process alive."""
    env = {
        **os.environ,
        "CONFIG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/config.db",
        "ITSM_AMQP_URL": servers_sync.amqp_url,
        "ITSM_EVENTS_EXCHANGE": servers_sync.exchange,
        "ITSM_RUN_WORKER": "false",
        "ITSM_JWT_SECRET": TEST_JWT_SECRET,
        "ITSM_ENVIRONMENT": "test",
        "OTEL_TRACES_EXPORTER": "none",
    }
    with socket.socket() as taken, tempfile.TemporaryFile() as output:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        command = service_command(entry("config"), host="127.0.0.1", port=taken.getsockname()[1])
        proc = subprocess.Popen(command, env=env, stdout=output, stderr=output)
        try:
            status = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            output.seek(0)
            raise AssertionError(
                f"still running 30 s after its bind failed:\n{output.read().decode()[-3000:]}"
            ) from None
    assert status != 0
