"""Supplier persistence: tables (SQLAlchemy Core), repositories and read queries, by area."""
