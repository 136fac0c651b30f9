"""The incident service's named use cases, one module per area; only these commit."""
