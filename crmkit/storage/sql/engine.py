"""Engines for database URLs: SQLite tuned for an embedded CRM, PostgreSQL via psycopg."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from crmkit.errors import ConfigError

SQLITE_CACHE_KIB = 64 * 1024


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL; plain ``postgresql://`` means the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"not a database URL: {url!r} ({exc})") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL as text with any password hidden, for messages."""
    try:
        return normalise_url(url).render_as_string(hide_password=True)
    except ConfigError:
        return "<invalid url>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    sqlite_pragmas(dbapi_connection)


def sqlite_pragmas(dbapi_connection: Any) -> None:
    """Tune a new SQLite connection: WAL, normal sync, foreign keys, busy wait, page cache.

    Applied to every connection the engine opens, and to the backend's read connections.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    finally:
        cursor.close()


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode and a larger page cache."""
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
        kwargs["connect_args"] = {"check_same_thread": False}
    elif backend != "postgresql":
        raise ConfigError(
            f"database {safe_url(parsed)}: only sqlite:// and postgresql:// URLs are supported "
            "by the built-in backend; a plugin can add others"
        )
    try:
        engine = create_engine(parsed, **kwargs)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"database {safe_url(parsed)} needs the driver {exc.name!r}: "
            "pip install 'crmkit[postgresql]'"
        ) from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine
