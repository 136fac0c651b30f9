"""Report governance (ISO/IEC 20000-1 6.2): agreements, distribution of runs, findings and actions."""
