"""Reporting's tables, repositories, report queries and outbound adapters (webhooks, the live feed)."""
