"""The change service: requests for change, approvals, the change schedule, releases and deployments."""
