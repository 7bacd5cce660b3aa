"""Profiles that would copy a calendar into itself or twice are refused, with file:line.

A calendar is its store (a file, a folder, a memory store, a service calendar) whatever it
is called in the profile: a pair from a folder into the same folder under another name, two
pairs with the same source and target, and a target nested in another pair's folder would
each duplicate every event on every run. Also: numbers too large for a date, and a damaged
state file, say what to fix.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import syncfw
from syncfw.errors import ProfileError, StateError
from syncfw.runtime.state import State


def write(tmp_path: Path, text: str) -> Path:
    profile = tmp_path / "shop.yaml"
    profile.write_text(text)
    return profile


def refused(tmp_path: Path, text: str) -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        syncfw.load_profile(write(tmp_path, text))
    return caught.value


SAME_FOLDER = """\
version: 1
calendars:
  jobs: {driver: ics, path: calendars/jobs}
  copy: {driver: ics, path: ./calendars/../calendars/jobs/}
pairs:
  - name: jobs-to-copy
    source: jobs
    target: copy
"""


def test_a_target_that_is_the_sources_own_folder_is_refused(tmp_path: Path) -> None:
    err = refused(tmp_path, SAME_FOLDER)
    assert (err.file, err.line, err.key) == (str(tmp_path / "shop.yaml"), 8, "pairs[0].target")
    assert "'copy' is where 'jobs' keeps its events" in err.message
    assert str((tmp_path / "calendars" / "jobs").resolve()) in err.message
    assert "copy the calendar into itself" in err.message


def test_validate_says_where_and_the_folder_stays_untouched(tmp_path: Path) -> None:
    profile = write(tmp_path, SAME_FOLDER)
    done = subprocess.run(
        [sys.executable, "-m", "syncfw", "validate", str(profile)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{profile}:8: pairs[0].target:" in done.stderr
    assert not (tmp_path / "calendars").exists()


def test_a_target_file_inside_the_sources_folder_is_refused(tmp_path: Path) -> None:
    text = SAME_FOLDER.replace(
        "path: ./calendars/../calendars/jobs/", "path: calendars/jobs/all.ics"
    )
    assert "copy the calendar into itself" in refused(tmp_path, text).message


def test_two_pairs_with_the_same_source_and_target_are_refused(tmp_path: Path) -> None:
    err = refused(
        tmp_path,
        """\
version: 1
calendars:
  jobs: {driver: memory, name: shop-jobs}
  master: {driver: memory, name: shop-master}
  master-again: {driver: memory, name: shop-master}
pairs:
  - {name: push, source: jobs, target: master}
  - {name: push-too, source: jobs, target: master-again}
""",
    )
    assert (err.line, err.key) == (8, "pairs[1].target")
    assert "the pair at line 7 have the same source and target" in err.message


def test_a_target_inside_another_pairs_target_folder_is_refused(tmp_path: Path) -> None:
    err = refused(
        tmp_path,
        """\
version: 1
calendars:
  jobs: {driver: memory, name: shop-jobs}
  other: {driver: memory, name: shop-other}
  all: {driver: ics, path: out}
  some: {driver: ics, path: out/some.ics}
pairs:
  - {name: everything, source: jobs, target: all}
  - {name: part, source: other, target: some}
""",
    )
    assert (err.line, err.key) == (9, "pairs[1].target")
    assert "hold each other's events" in err.message


def test_several_sources_into_one_target_are_fine(tmp_path: Path) -> None:
    profile = syncfw.load_profile(
        write(
            tmp_path,
            """\
version: 1
calendars:
  jobs: {driver: memory, name: shop-jobs}
  other: {driver: memory, name: shop-other}
  master: {driver: ics, path: out}
pairs:
  - {name: jobs, source: jobs, target: master}
  - {name: other, source: other, target: master}
""",
        )
    )
    assert [p.name for p in profile.pairs] == ["jobs", "other"]


@pytest.mark.parametrize(
    "key",
    [
        "window: {future_days: 1000000000}",
        "window: {past_days: 99999999}",
        "recurrence: {horizon_days: 1000000000}",
    ],
)
def test_numbers_too_large_for_a_date_are_refused_at_load(tmp_path: Path, key: str) -> None:
    err = refused(
        tmp_path,
        "version: 1\n"
        "calendars:\n"
        "  a: {driver: memory, name: a}\n"
        "  b: {driver: memory, name: b}\n"
        "pairs:\n"
        f"  - {{name: p, source: a, target: b, {key}}}\n",
    )
    assert err.line == 6 and "less than or equal to 36500" in err.message


def test_a_damaged_state_file_says_to_move_it_aside(tmp_path: Path) -> None:
    damaged = tmp_path / "state.db"
    damaged.write_bytes(b"this is not an SQLite file" * 100)
    with pytest.raises(StateError) as caught:
        State(damaged)
    message = str(caught.value)
    assert str(damaged) in message and "move it aside" in message
    assert "adopts what syncfw already wrote" in message
