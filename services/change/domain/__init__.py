"""The change service's pure rules, one module per area (no web, database, broker or telemetry)."""
