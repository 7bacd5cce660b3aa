"""The state store: what syncfw knows between runs, in one SQLite file.

Per pair it keeps the *mapping* of every source item to the target item syncfw
wrote for it (with the source content hash and the target etag/hash), the
incremental *cursors* of both sides, and a *run log*. The schema is versioned
with ``PRAGMA user_version`` and migrated forward on open.

Durability: the engine records each applied write (or small group) in its own
transaction, right after the target confirmed it. A crash therefore loses at
most the writes in flight, and the next run adopts those by their deterministic
uid instead of writing them twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from syncfw.errors import StateError
from syncfw.model import Link

__all__ = ["RunRecord", "State"]

# Each entry moves the schema from version i to i + 1. Append, never edit.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE mappings (
        pair        TEXT NOT NULL,
        source_key  TEXT NOT NULL,
        target_key  TEXT NOT NULL,
        target_uid  TEXT NOT NULL,
        source_hash TEXT NOT NULL,
        target_etag TEXT,
        ends_at     TEXT NOT NULL,
        source_group TEXT NOT NULL,
        PRIMARY KEY (pair, source_key)
    );
    CREATE TABLE cursors (
        pair     TEXT NOT NULL,
        calendar TEXT NOT NULL,
        cursor   TEXT,
        window   TEXT,
        PRIMARY KEY (pair, calendar)
    );
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        pair        TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        status      TEXT NOT NULL,
        created     INTEGER NOT NULL DEFAULT 0,
        updated     INTEGER NOT NULL DEFAULT 0,
        deleted     INTEGER NOT NULL DEFAULT 0,
        unchanged   INTEGER NOT NULL DEFAULT 0,
        failed      INTEGER NOT NULL DEFAULT 0,
        message     TEXT
    );
    CREATE INDEX runs_pair ON runs (pair, id);
    """,
    # 2: what the target last showed of an item's attendees (their answers, guests)
    """
    ALTER TABLE mappings ADD COLUMN attendees TEXT;
    CREATE TABLE persons (
        pair  TEXT PRIMARY KEY,
        name  TEXT NOT NULL,
        email TEXT NOT NULL
    )
    """,
    # 3: two-way pairs also remember the source's etag and the target's content
    """
    ALTER TABLE mappings ADD COLUMN source_etag TEXT;
    ALTER TABLE mappings ADD COLUMN target_hash TEXT
    """,
    # 4: ... and the attendees the source showed, whose answers a pull keeps
    "ALTER TABLE mappings ADD COLUMN source_attendees TEXT",
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class RunRecord:
    pair: str
    started_at: str
    finished_at: str | None
    status: str
    created: int
    updated: int
    deleted: int
    unchanged: int
    failed: int
    message: str | None


class State:
    """The SQLite state store. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(
                f"state file {path} cannot be used: {exc}; move it aside (keep it for a bug "
                "report) and run again: the next run starts a new state and adopts what "
                "syncfw already wrote into the targets, without duplicates"
            ) from exc

    def _migrate(self) -> None:
        # Each step re-reads the version under the write lock (BEGIN IMMEDIATE), so two
        # processes opening a new file at once do not both apply it.
        while True:
            with self.transaction():
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StateError(
                        f"state file {self.path} has schema version {version}, this syncfw "
                        f"knows up to {SCHEMA_VERSION}: upgrade syncfw"
                    )
                if version == SCHEMA_VERSION:
                    return
                for statement in filter(str.strip, MIGRATIONS[version].split(";")):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- mappings ---------------------------------------------------------------

    def mappings(self, pair: str) -> dict[str, Link]:
        rows = self.db.execute(
            "SELECT source_key, target_key, target_uid, source_hash, target_etag, ends_at,"
            " source_group, attendees, source_etag, target_hash, source_attendees"
            " FROM mappings WHERE pair = ?",
            (pair,),
        )
        return {row[0]: Link(*row) for row in rows}

    def put_mappings(self, pair: str, mappings: Iterable[Link]) -> None:
        """Insert or replace mappings; call inside :meth:`transaction` to group them."""
        self.db.executemany(
            "INSERT OR REPLACE INTO mappings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    pair,
                    m.source_key,
                    m.target_key,
                    m.target_uid,
                    m.source_hash,
                    m.target_etag,
                    m.ends_at,
                    m.group,
                    m.attendees,
                    m.source_etag,
                    m.target_hash,
                    m.source_attendees,
                )
                for m in mappings
            ),
        )

    def delete_mappings(self, pair: str, source_keys: Iterable[str]) -> None:
        self.db.executemany(
            "DELETE FROM mappings WHERE pair = ? AND source_key = ?",
            ((pair, key) for key in source_keys),
        )

    def forget_pair(self, pair: str) -> None:
        """Drop a pair's mappings, cursors and person (its run log stays)."""
        with self.transaction():
            for table in ("mappings", "cursors", "persons"):
                self.db.execute(f"DELETE FROM {table} WHERE pair = ?", (pair,))

    def generated_pairs(self) -> set[str]:
        """The pairs generated for persons (fan-out by copy), by the person recorded."""
        return {row[0] for row in self.db.execute("SELECT pair FROM persons")}

    def pair_person(self, pair: str) -> tuple[str, str] | None:
        """The (name, email) a generated pair was made for, to retire it later."""
        row = self.db.execute("SELECT name, email FROM persons WHERE pair = ?", (pair,))
        found = row.fetchone()
        return (found[0], found[1]) if found else None

    def set_pair_person(self, pair: str, name: str, email: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO persons VALUES (?, ?, ?)", (pair, name, email))

    # -- cursors ----------------------------------------------------------------

    def cursor(self, pair: str, calendar: str) -> tuple[str | None, str | None]:
        """The stored (cursor, window tag) of one side of a pair."""
        row = self.db.execute(
            "SELECT cursor, window FROM cursors WHERE pair = ? AND calendar = ?", (pair, calendar)
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def cursors(self) -> list[tuple[str, str, str | None]]:
        return list(self.db.execute("SELECT pair, calendar, cursor FROM cursors ORDER BY 1, 2"))

    def set_cursor(self, pair: str, calendar: str, cursor: str | None, window: str | None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO cursors VALUES (?, ?, ?, ?)", (pair, calendar, cursor, window)
        )

    # -- run log ----------------------------------------------------------------

    def start_run(self, pair: str) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (pair, started_at, status) VALUES (?, ?, 'running')",
            (pair, _now()),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        created: int,
        updated: int,
        deleted: int,
        unchanged: int,
        failed: int,
        message: str | None = None,
    ) -> None:
        self.db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, created = ?, updated = ?, deleted = ?,"
            " unchanged = ?, failed = ?, message = ? WHERE id = ?",
            (_now(), status, created, updated, deleted, unchanged, failed, message, run_id),
        )

    def last_runs(self) -> dict[str, RunRecord]:
        """The latest run of each pair."""
        rows = self.db.execute(
            "SELECT pair, started_at, finished_at, status, created, updated, deleted, unchanged,"
            " failed, message FROM runs WHERE id IN (SELECT max(id) FROM runs GROUP BY pair)"
            " ORDER BY pair"
        )
        return {row[0]: RunRecord(*row) for row in rows}

    def mapping_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT pair, count(*) FROM mappings GROUP BY pair"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
