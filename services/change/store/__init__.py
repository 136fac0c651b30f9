"""The change service's persistence (tables.py declares every table) and its outbound adapters."""
