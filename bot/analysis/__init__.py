"""Analysis: turn the stored history into stories and hiring signals (core decisions, stored as rows)."""
