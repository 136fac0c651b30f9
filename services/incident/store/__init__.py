"""The incident service's persistence: `tables` declares every table; one repository module per area."""
