"""Reporting's HTTP bodies, one module per area."""
