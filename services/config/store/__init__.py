"""The CMDB's persistence: `tables` declares every table; one module of repositories and read queries per area."""
