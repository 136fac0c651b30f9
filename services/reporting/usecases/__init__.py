"""Reporting's named use cases: projections, reports, agreements, runs, distribution."""
