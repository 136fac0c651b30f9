"""Supplier use cases, by area: one async function per command; only these commit."""
