"""The incident service: incidents, service requests, SLA clocks, problems, known errors and alerts."""
