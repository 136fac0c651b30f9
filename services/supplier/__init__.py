"""The supplier service: suppliers, contracts, supplier performance and governance (ISO/IEC 20000-1 7.2, 4.2)."""
