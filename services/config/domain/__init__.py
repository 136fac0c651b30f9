"""The CMDB as pure domain code (no I/O): types, CIs, relationships, impact, discovery, baselines."""
