"""Reporting's pure rules: what each event contributes to the projections (facts), the report
definitions, and the figures computed from the facts. No I/O here."""
