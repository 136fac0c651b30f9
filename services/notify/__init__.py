"""The notify service: outbound webhooks to integrators (and, later, notification rules and channels)."""
