"""The configuration service: the CMDB (ISO/IEC 20000-1 9.1)."""
