"""The incident service's pure rules (no I/O), one module per area."""
