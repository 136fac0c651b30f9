"""The notify service's use cases: one async function per action, one transaction each."""
