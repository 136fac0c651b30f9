"""Discovery runs in the replica load: the same observation of two new hosts and their link, sent
to both config APIs at once. Reconciliation makes a run safe to repeat, so the client may resend it
after a refused connection; what must hold is one CI per host, however the two runs interleave."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.replica_client import ReplicaClient
    from tests.replica_counts import Counts
    from tests.replica_load import Created


def _observation() -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    hosts = [
        {
            "key": f"{role}-{tag}",
            "type": "server",
            "name": f"{role}-{tag}",
            "identifiers": {"hostname": f"{role}-{tag}"},
        }
        for role in ("app", "db")
    ]
    link = {"source": hosts[0]["key"], "type": "depends_on", "target": hosts[1]["key"]}
    return {"source": "load-scanner", "items": hosts, "relationships": [link]}


async def discover_on_both_replicas(client: ReplicaClient, counts: Counts, created: Created) -> None:
    body = _observation()
    answers = await asyncio.gather(
        *(
            client.call("config", "POST", "/api/v1/discovery/runs", json=body, replica=r, repeatable=True)
            for r in (0, 1)
        )
    )
    counts.discovery_runs += 1
    counts.hosts_discovered += len(body["items"])
    made: dict[str, list[str]] = defaultdict(list)
    for answer in answers:
        if answer is None:
            continue
        if answer.status_code != 201:
            counts.fail(f"discovery run: {answer.status_code} {answer.text[:200]}")
            continue
        for item in answer.json()["items"]:
            if item["outcome"] == "created":
                made[item["key"]].append(item["ci_id"])
            elif item["outcome"] not in ("updated", "unchanged"):
                counts.fail(f"discovery item {item['key']}: {item['outcome']} {item['detail']}")
    counts.hosts_created_twice += sum(1 for ids in made.values() if len(ids) > 1)
    created.ids["ci"].extend(ci for ids in made.values() for ci in ids)
