"""Torii gateway: I/O — receive, store, acknowledge, send."""
