"""A run killed with SIGKILL at every write position, then a normal run: the target is exact.

The kill comes from a plugin that the test loads through ``SYNCFW_PLUGINS`` (as a
user's local plugin would be): a driver ``crashy-ics`` that is the ics driver,
but kills its own process at the k-th write — either right after the file was
written (before syncfw recorded it) or in the middle of writing it (before the
atomic rename).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncfw.core.policies import target_uid
from syncfw.model import Event
from syncfw.sdk.ical import event_to_ical

from .conftest import read_ics_folder

CRASH_PLUGIN = """
import os, signal
from syncfw import hookimpl
from syncfw.drivers.ics import IcsDriver

AT = int(os.environ.get("CRASH_AT", "0"))
MODE = os.environ.get("CRASH_MODE", "after")
writes = commits = 0

def killing_before(commit):
    # The ics driver commits a file by os.replace (or os.link for an exclusive create),
    # after the temp file is written: dying just before it is dying mid-write.
    def wrapper(src, dst):
        global commits
        commits += 1
        if MODE == "during" and commits == AT:
            os.kill(os.getpid(), signal.SIGKILL)
        return commit(src, dst)
    return wrapper

os.replace = killing_before(os.replace)
os.link = killing_before(os.link)

class CrashyIcs(IcsDriver):
    name = "crashy-ics"

    def write(self, ops):
        global writes
        for result in super().write(ops):
            writes += 1
            if MODE == "after" and writes == AT:
                os.kill(os.getpid(), signal.SIGKILL)
            yield result

@hookimpl
def syncfw_register_drivers(register):
    register(CrashyIcs)
"""


def source_events(titles: dict[str, str]) -> list[Event]:
    base = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return [
        Event(
            uid=uid,
            title=title,
            start=base + timedelta(days=i + 1),
            end=base + timedelta(days=i + 1, hours=1),
        )
        for i, (uid, title) in enumerate(sorted(titles.items()))
    ]


class Setup:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        (root / "crashplug.py").write_text(CRASH_PLUGIN)
        self.profile = root / "profile.yaml"
        self.profile.write_text(
            textwrap.dedent("""
            version: 1
            calendars:
              jobs: {driver: ics, path: source.ics, create: false}
              master: {driver: crashy-ics, path: master}
            pairs:
              - {name: push, source: jobs, target: master}
        """)
        )

    def write_source(self, titles: dict[str, str]) -> None:
        (self.root / "source.ics").write_bytes(event_to_ical(source_events(titles)))

    def run(self, crash_at: int = 0, mode: str = "after") -> int:
        env = {
            **os.environ,
            "SYNCFW_PLUGINS": "crashplug",
            "CRASH_AT": str(crash_at),
            "CRASH_MODE": mode,
            "PYTHONPATH": str(self.root),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "syncfw", "run", str(self.profile), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return proc.returncode

    def target(self) -> list[tuple[str, str]]:
        return sorted((uid, e.title) for uid, e in read_ics_folder(self.root / "master").items())


def expected(titles: dict[str, str]) -> list[tuple[str, str]]:
    return sorted((target_uid("push", uid), title) for uid, title in titles.items())


INITIAL = {f"job-{i}": f"Job {i}" for i in range(6)}
CHANGED = {
    **{k: v for k, v in INITIAL.items() if k not in ("job-0", "job-1")},
    "job-2": "Job 2 moved",
    "job-3": "Job 3 renamed",
    "job-7": "Job 7",
    "job-8": "Job 8",
}
CHANGED_WRITES = 6  # 2 deletes, 2 updates, 2 creates


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["after", "during"])
def test_initial_push_killed_at_every_write(tmp_path: Path, mode: str) -> None:
    for k in range(1, len(INITIAL) + 1):
        setup = Setup(tmp_path / f"{mode}-{k}")
        setup.write_source(INITIAL)
        assert setup.run(crash_at=k, mode=mode) == -9, f"write {k} did not crash"
        assert setup.run() == 0
        assert setup.target() == expected(INITIAL), f"after a kill at write {k} ({mode})"
        assert setup.run() == 0 and setup.target() == expected(INITIAL)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["after", "during"])
def test_changes_killed_at_every_write(tmp_path: Path, mode: str) -> None:
    for k in range(1, CHANGED_WRITES + 1):
        setup = Setup(tmp_path / f"{mode}-{k}")
        setup.write_source(INITIAL)
        assert setup.run() == 0
        setup.write_source(CHANGED)
        assert setup.run(crash_at=k, mode=mode) == -9, f"write {k} did not crash"
        assert setup.run() == 0
        assert setup.target() == expected(CHANGED), f"after a kill at write {k} ({mode})"
