"""The change API's pydantic bodies, one module per area."""
