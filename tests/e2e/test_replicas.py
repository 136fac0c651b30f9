"""Every service as two API processes and two workers on PostgreSQL, under a short steady load,
with a process of every service restarted with SIGTERM meanwhile: no request
fails, no event is lost or applied twice, each scheduled job (the capacity job against a real
Prometheus too) fires once per due item, idempotency
keys hold across replicas and no update is lost under If-Match. `make replicas` runs the same for
longer, restarting every process (tests/replica_load.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.infra import Servers
from tests.prometheus import skip_without_prometheus
from tests.replica_counts import report
from tests.replica_hey import HEY, HeyCounts, read_summary
from tests.replica_load import ONE_OF_EACH, run_replicas

skip_without_prometheus()

RESTARTED = ONE_OF_EACH
"""At least one process of every service (notify's worker among them), restarted together as a
rollout of every deployment at once does: no two share a deployment, so each keeps a replica
serving. `make replicas` restarts all twenty-four, one at a time: on two cores each start takes
seconds of CPU, which a test in `make test` cannot spend twenty-four times in a row."""


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.timeout(900)  # 24 processes on two cores
async def test_two_replicas_of_every_service_under_load_through_a_rolling_restart(
    servers: Servers, tmp_path: Path
) -> None:
    counts = await run_replicas(
        servers, tmp_path, users=3, duration_s=10, restart_only=RESTARTED, restart_together=True
    )
    sys.stdout.write(f"{report(counts)}\n")  # shown with -rP: the counts and the seconds of each phase
    assert counts.failure_samples == [], report(counts)
    assert counts.failures == 0
    assert counts.restarts == len(RESTARTED)
    assert set(counts.restart_exit_statuses) == {0}
    assert min(counts.created.values()) > 0
    assert counts.events_sent > 0
    assert (counts.events_lost, counts.events_applied_twice) == (0, 0)
    assert counts.events_applied == counts.events_sent
    assert counts.idempotent_pairs > 0 and counts.idempotency_broken == 0
    assert counts.if_match_races > 0 and counts.lost_updates == 0
    assert counts.discovery_runs > 0 and counts.hosts_created_twice == 0
    assert counts.sla_breaches == counts.sla_due > 0
    assert counts.contracts_expiring == counts.contracts_due > 0
    assert counts.report_runs == counts.reports_due > 0
    assert counts.job_events_twice == 0
    capacity = counts.capacity
    assert capacity.samples_stored == capacity.samples_served > 0 and capacity.samples_wrong == 0, capacity.samples
    assert capacity.crossings_published_once == capacity.crossings_due > 0
    assert (capacity.crossings_published_twice, capacity.crossings_not_due) == (0, 0)
    assert capacity.incidents_opened == capacity.critical_breaches > 0 and capacity.incidents_open == 0
    if HEY is not None:  # a load tool's creates through the restart: none dropped, each one incident
        assert counts.hey.created > 0 and counts.hey.dropped == 0, counts.hey.describe()
        assert set(counts.hey.statuses) == {201} and counts.hey.in_database == counts.hey.created, counts.hey.describe()
    assert counts.clean, report(counts)


HEY_SUMMARY = """
Status code distribution:
  [201]\t38 responses
  [503]\t2 responses

Error distribution:
  [5]\tPost "http://127.0.0.1:4001/api/v1/incidents": dial tcp 127.0.0.1:4001: connect: connection refused
  [1]\tPost "http://127.0.0.1:4001/api/v1/incidents": read tcp 127.0.0.1:51234->127.0.0.1:4001: read: reset
"""


def test_what_hey_printed_is_read_as_created_refused_and_dropped() -> None:
    counts = HeyCounts(in_database=38)
    read_summary(HEY_SUMMARY, counts)
    assert (counts.runs, counts.created, counts.statuses[503], counts.refused, counts.dropped) == (1, 38, 2, 5, 1)
    assert not counts.clean  # a dropped request and a 503
    read_summary("Status code distribution:\n  [201]\t2 responses\n", clean := HeyCounts(in_database=2))
    assert clean.clean and clean.created == 2
