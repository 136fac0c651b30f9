"""The `itsm` command line: run the suite, migrate, mint tokens, handle dead letters."""
