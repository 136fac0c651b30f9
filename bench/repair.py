"""`itsm repair` on a large CMDB: how long the dry run takes to check every CI, and how long
`--apply` takes to fix the damaged ones, on PostgreSQL.

A migrated config database gets `--cis` CIs (100,000) with ordinary attributes, written with SQL
as the bench of the CMDB does; `--damaged` of them (100) get attributes nested 300 levels deep,
as earlier versions stored them. Then, in this process: the dry run (the whole check), `--apply`
(the fixes, each a transaction with its new version and its `ci.updated.v1` in the outbox), and a
second dry run that must find nothing. The database is dropped at the end.

    uv run python -m bench.repair [--cis 100000] [--damaged 100] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import asyncpg

from bench import smoke
from bench.infra import Bench, asyncpg_dsn, run_main
from itsm.registry import entry
from itsm.repair import repair_service


def nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


LOAD = """
INSERT INTO config_item (id, number, name, type, status, criticality, attributes, created_at, updated_at, version)
SELECT gen_random_uuid(), 'CI' || lpad(n::text, 7, '0'), 'host-' || n, 'server', 'live', 3,
       json_build_object('rack', n % 40, 'cores', 8, 'tags', json_build_array('bench', n % 7)),
       now(), now(), 1
FROM generate_series(1, $1) AS n
"""


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--damaged", type=int, default=100)
    args = smoke.parse_args(parser, cis=500, damaged=5)
    cis, damaged = args.cis, args.damaged
    bench = Bench()
    try:
        url = await bench.create_database("repair", "config")
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await conn.execute(LOAD, cis)
            deep = json.dumps(nested(300))
            await conn.execute(
                "UPDATE config_item SET attributes = $1::json WHERE number IN"
                " (SELECT number FROM config_item ORDER BY random() LIMIT $2)",
                deep,
                damaged,
            )
        finally:
            await conn.close()
        os.environ["CONFIG_DATABASE_URL"] = url
        config = entry("config")
        config.spec, config.repair_targets  # noqa: B018 (imported before the clock starts)
        started = time.perf_counter()
        dry = await repair_service(config, apply=False)
        dry_s = time.perf_counter() - started
        started = time.perf_counter()
        applied = await repair_service(config, apply=True)
        apply_s = time.perf_counter() - started
        after = await repair_service(config, apply=False)
        print(f"CIs: {cis}, damaged: {damaged}")
        print(f"dry run: {dry_s:.2f} s, {len(dry.findings)} found ({cis / dry_s:,.0f} CIs/s checked)")
        print(f"--apply: {apply_s:.2f} s (check, {applied.repaired} fixed, check again)")
        print(f"left after --apply: {len(after.findings)}")
        repaired_all = len(dry.findings) == damaged and applied.repaired == damaged and not after.findings
        return smoke.finish(0 if repaired_all else 1, args)
    finally:
        await bench.cleanup()


if __name__ == "__main__":
    raise SystemExit(run_main(main))
