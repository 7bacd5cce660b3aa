"""Opening a database by SQLAlchemy URL without ever showing its password.

Every message about a database names it by :func:`safe_url`; :func:`scrub` is the second
line of defence for text that comes from a DB driver.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from .records import StoreUnavailable

__all__ = ["make_sqlite_folder", "open_engine", "safe_url", "scrub", "sqlite_file"]


def safe_url(url: str | URL) -> str:
    """The URL for messages and logs: the password, if any, replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<an unparsable database URL>"


def open_engine(url: str | URL) -> Engine:
    """An engine for ``url`` (it connects on first use); clear errors for bad URLs."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise StoreUnavailable(
            f"{safe_url(url)} is not an SQLAlchemy URL (e.g. sqlite:///jobcal.db)"
        ) from None
    try:
        engine = sa.create_engine(parsed)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreUnavailable(
            f"cannot open {safe_url(url)}: {scrub(str(exc), url)} "
            "(is the database driver installed?)"
        ) from None
    except (ArgumentError, ValueError, TypeError) as exc:
        raise StoreUnavailable(f"cannot open {safe_url(url)}: {scrub(str(exc), url)}") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def scrub(message: str, url: str | URL) -> str:
    """Belt and braces: no password in a message, whatever a DB driver puts there."""
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):
        return message
    return message.replace(str(password), "***") if password else message


def sqlite_file(url: URL) -> Path | None:
    """The file of an SQLite URL (maybe relative); None for other databases and memory."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database:
        return None
    if database.startswith((":memory:", "file:")):
        return None
    return Path(database).expanduser()


def make_sqlite_folder(url: URL) -> None:
    """SQLite creates the file but not its folder; ``init`` should just work."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")  # concurrent writers wait instead of failing
    cursor.close()
