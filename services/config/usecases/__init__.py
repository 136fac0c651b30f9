"""CMDB use cases, one module per area: one async function per command; only these commit."""
