"""Queries, grouped by the object they read. They flush when needed and never commit."""
