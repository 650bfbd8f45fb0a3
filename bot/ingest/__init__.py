"""Ingestion: claim due sources, fetch, parse, normalise, store; and adding sources by spec."""
