"""Reporting's pure rules: the fact tables and what each event sets in them, the report definitions
and figures, agreements and distribution. No I/O here."""
