"""Alembic migrations: the core's branch, and the runner that upgrades every branch."""
