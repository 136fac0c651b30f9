"""The notify service's edges: tables, repositories, read queries and the outbound HTTP adapter."""
