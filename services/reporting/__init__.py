"""The reporting service: the suite's event log, its projections and the service reports."""
