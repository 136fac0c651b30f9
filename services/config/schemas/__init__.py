"""The CMDB's HTTP bodies (pydantic), one module per area."""
