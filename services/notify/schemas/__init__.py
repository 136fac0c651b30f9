"""The notify service's API bodies, by area."""
