"""Storage: SQLModel tables, data functions over a session, and Alembic migrations."""
