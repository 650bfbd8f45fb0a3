"""Briefs: one per story or hiring signal, written by an LLM or by the built-in writer."""
