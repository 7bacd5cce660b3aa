"""The state store: schema versions, and refusing what it cannot trust."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from syncfw.errors import StateError
from syncfw.model import Link
from syncfw.runtime.state import SCHEMA_VERSION, State


def test_a_new_file_gets_the_current_schema_and_keeps_what_is_written(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.db"
    with State(path) as state:
        with state.transaction():
            state.put_mappings("p", [Link("s1", "t1", "uid1", "h1", "e1", "2030-01-01", "s1")])
        state.set_cursor("p", "jobs", "cursor-1", "2030-01-01")
        run = state.start_run("p")
        state.finish_run(run, status="ok", created=1, updated=0, deleted=0, unchanged=0, failed=0)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with State(path) as state:
        assert state.mappings("p")["s1"].target_etag == "e1"
        assert state.cursor("p", "jobs") == ("cursor-1", "2030-01-01")
        assert state.last_runs()["p"].created == 1
        assert state.mapping_counts() == {"p": 1}


def test_a_transaction_that_fails_leaves_nothing(tmp_path: Path) -> None:
    with State(tmp_path / "s.db") as state:
        with pytest.raises(RuntimeError), state.transaction():
            state.put_mappings("p", [Link("s1", "t1", "u", "h", None, "2030-01-01", "s1")])
            raise RuntimeError("killed mid-way")
        assert state.mappings("p") == {}


def test_a_state_file_from_a_newer_syncfw_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    State(path).close()
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateError, match="upgrade syncfw"):
        State(path)


def test_a_file_that_is_not_a_state_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_text("this is not sqlite " * 100)
    with pytest.raises(StateError, match="cannot be used"):
        State(path)


def test_a_version_1_file_is_migrated_and_keeps_its_mappings(tmp_path: Path) -> None:
    from syncfw.runtime.state import MIGRATIONS

    path = tmp_path / "v1.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("INSERT INTO mappings VALUES ('p', 's1', 't1', 'u', 'h', 'e', '2030-01-01', 's1')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with State(path) as state:
        mapping = state.mappings("p")["s1"]
        assert (mapping.target_key, mapping.attendees) == ("t1", None)
        assert (mapping.source_etag, mapping.source_attendees) == (None, None)
        state.set_pair_person("p>a@x", "A", "a@x")
        assert state.pair_person("p>a@x") == ("A", "a@x")


def test_a_two_way_link_keeps_every_field(tmp_path: Path) -> None:
    link = Link(
        "s1",
        "t1",
        "u",
        "h",
        "te",
        "2030-01-01T10:00:00+00:00",
        "s1",
        attendees='[["ann@x.org","","individual","accepted",false]]',
        source_etag="se",
        target_hash="th",
        source_attendees='[["ann@x.org","","individual","declined",false]]',
    )
    with State(tmp_path / "s.db") as state, state.transaction():
        state.put_mappings("p", [link])
    with State(tmp_path / "s.db") as state:
        assert state.mappings("p") == {"s1": link}
