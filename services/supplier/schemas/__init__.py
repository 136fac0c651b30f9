"""The supplier API's pydantic bodies, one module per area (Create/Update/Read/Page)."""
