"""`bench.slow_clients --smoke` runs to its end: a service that closes stalled connections and keeps
answering `/readyz` meanwhile (the bench's own checks), figures printed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.slow_clients import fd_shortfall
from tests.infra import Servers


def test_the_slow_clients_bench_runs_in_smoke_mode(servers_sync: Servers) -> None:
    if problem := fd_shortfall(100):
        pytest.skip(problem)
    result = subprocess.run(
        [sys.executable, "-m", "bench.slow_clients", "--smoke"],
        # The run's servers; the bench makes (and removes) its own database and exchange on them.
        env={**os.environ, "BENCH_DATABASE_URL": servers_sync.database_url, "BENCH_AMQP_URL": servers_sync.amqp_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "/readyz without the flood: n=" in result.stdout
    assert "/readyz during the flood:  n=" in result.stdout
    assert "stalled connections closed by the server: 100/100" in result.stdout
