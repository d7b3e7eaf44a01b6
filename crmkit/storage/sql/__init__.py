"""The SQLAlchemy backend (SQLite and PostgreSQL)."""
