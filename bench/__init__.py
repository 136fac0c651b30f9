"""Benchmarks of the suite against a raw-asyncpg baseline on the same machine, in the same run.

`uv run python -m bench.create_incident` runs everything (see bench/README.md):

- `bench.throughput`: incident create over HTTP with wrk, the suite against `bench.baseline_app`;
- `bench.propagation`: create -> visible in reporting, at a steady open-loop rate.
"""
