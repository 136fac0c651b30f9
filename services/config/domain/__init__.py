"""The CMDB as pure domain code (no I/O): CI types and their attribute schemas, the CI record and
its versions, relationships, impact analysis, and the rules of change control."""
