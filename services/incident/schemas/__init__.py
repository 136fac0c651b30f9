"""Pydantic HTTP bodies of the incident service, one module per area."""
