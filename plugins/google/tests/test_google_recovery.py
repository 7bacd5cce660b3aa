"""The reflex example on Google recovering from what goes wrong, each ending exactly right.

Expired sync tokens (410), concurrent edits (412), rate limits and server errors, a spent
quota, and a process killed with SIGKILL in the middle of a batch. After each, the master
calendar holds the job calendar exactly and nothing twice (``Reflex.assert_exact``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from emulator import GoogleEmulator
from test_google_e2e import PAIR, Reflex, appointment, event_lists, expected, writes

from syncfw.core.policies import target_uid
from syncfw.sdk.driver import WriteOp, WriteResult
from syncfw.testing.killing import run_killed
from syncfw_google import GoogleDriver
from syncfw_google.convert import event_id


@pytest.fixture
def reflex(tmp_path: Path, google_emulator: GoogleEmulator) -> Iterator[Reflex]:
    setup = Reflex(tmp_path, google_emulator)
    yield setup
    setup.close()


def google_key(uid: str) -> str:
    return str(event_id(target_uid(PAIR, uid)))


def test_expired_sync_token_with_deletions_in_between(reflex: Reflex) -> None:
    emulator = reflex.emulator
    reflex.run()
    gone_in_jobs, gone_in_google, drifted = (appointment(reflex.jobs, skip=i) for i in range(3))
    reflex.jobs.delete_appointment(gone_in_jobs)
    emulator.delete_event(reflex.master_id, google_key(gone_in_google))
    emulator.edit(reflex.master_id, google_key(drifted), summary="Edited by hand in Google")
    emulator.expire_sync_tokens()
    emulator.reset_log()
    report = reflex.run()
    tokens = [r for r in emulator.requests if r.method == "GET" and "syncToken" in r.query]
    full = [r for r in emulator.requests if r.method == "GET" and "timeMin" in r.query]
    assert tokens and full, "the stale token was tried (410), then everything was read"
    assert report.deleted == 1 and report.created + report.updated == 2
    reflex.assert_exact()  # deleted in jobs: gone; deleted/edited in Google: repaired
    emulator.reset_log()
    assert reflex.run().unchanged and writes(emulator) == 0 and event_lists(emulator) == 1


def test_event_edited_in_google_between_read_and_write(
    reflex: Reflex, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = reflex.emulator
    reflex.run()
    renamed, drifted = appointment(reflex.jobs), appointment(reflex.jobs, skip=1)
    reflex.jobs.edit_appointment(renamed, title="Renamed in the job calendar")
    write = GoogleDriver.write
    edits: list[str] = []

    def edit_first(self: GoogleDriver, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        if not edits:  # someone edits in Google after syncfw read, before it writes
            for uid, title in ((renamed, "Edited in Google"), (drifted, "Also edited")):
                emulator.edit(reflex.master_id, google_key(uid), summary=title)
                edits.append(uid)
        results: Iterator[WriteResult] = write(self, ops)
        return results

    monkeypatch.setattr(GoogleDriver, "write", edit_first)
    emulator.reset_log()
    report = reflex.run()
    puts = [r for r in emulator.requests if r.method == "PUT" and google_key(renamed) in r.path]
    assert len(puts) == 2, "a 412 on the stale etag, then a write after re-reading"
    assert puts[0].headers.get("If-Match") != puts[1].headers.get("If-Match")
    assert report.failed == 0 and not report.failures
    assert reflex.google_event(renamed)["summary"] == "Renamed in the job calendar"
    reflex.assert_exact()  # the drift on the other event was repaired by the re-plan too


def test_bursts_of_429_and_5xx(reflex: Reflex) -> None:
    emulator = reflex.emulator
    emulator.inject(500, count=2, path="/events", method="GET")
    emulator.inject(429, retry_after=0.02, count=2, path="/batch/")
    emulator.inject(503, count=3, path="/batch/")
    emulator.inject(429, count=4, in_batch=True)
    emulator.inject(403, reason="userRateLimitExceeded", count=3, in_batch=True)
    emulator.inject(502, count=2, in_batch=True)
    report = reflex.run()
    assert report.failed == 0 and report.created > 20
    assert all(f.count == 0 for f in emulator._faults), "every injected fault was hit"
    assert emulator.count("POST", "/batch/") >= 1 + 2 + 3 + 1  # + a retry round for parts
    reflex.assert_exact()
    emulator.inject(503, count=3, in_batch=True)
    reflex.jobs.edit_appointment(appointment(reflex.jobs), title="After the burst")
    reflex.jobs.delete_appointment(appointment(reflex.jobs, skip=1))
    reflex.run()
    reflex.assert_exact()


def test_quota_exceeded_stops_the_run_and_a_later_run_finishes(
    tmp_path: Path, google_emulator: GoogleEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    reflex = Reflex(tmp_path, google_emulator, batch_size=10)
    try:
        chunk = GoogleDriver._write_chunk
        chunks: list[int] = []

        def quota_after_first(self: GoogleDriver, ops: Sequence[WriteOp]) -> Any:
            chunks.append(len(ops))
            if len(chunks) == 2:  # the first batch went through; then the quota is spent,
                # for the first half of the second batch (its second half is written but,
                # the run having stopped, not recorded: the next run adopts it)
                google_emulator.inject(403, reason="quotaExceeded", count=5, in_batch=True)
            return chunk(self, ops)

        monkeypatch.setattr(GoogleDriver, "_write_chunk", quota_after_first)
        stopped = reflex.run(ok=False)
        assert stopped.status == "error" and "quota" in (stopped.error or "")
        assert 10 <= len(reflex.ours()) < len(reflex.jobs.appointments()), "stopped midway"
        assert len(chunks) == 2, "no batch is sent once the quota is spent"
        monkeypatch.undo()
        finished = reflex.run()
        assert finished.failed == 0
        reflex.assert_exact()
    finally:
        reflex.close()


# -- SIGKILL in the middle of a batch ----------------------------------------------------------


class Killable(Reflex):
    """The example, run once by ``python -m syncfw run`` in a child process to kill."""

    def __init__(self, root: Path, emulator: GoogleEmulator) -> None:
        super().__init__(root, emulator, batch_size=10)
        self.root = root

    def run_killed(self, kill_at: int = 0, kill_in_part: int = 0) -> None:
        """Kill syncfw after the driver yielded ``kill_at`` results, or while the emulator
        answers the ``kill_in_part``-th write of a batch (its request in flight)."""
        run_killed(
            self.profile,
            GoogleDriver,
            self.root,
            kill_at=kill_at,
            kill_in_part=kill_in_part,
            emulator=self.emulator,
        )


@pytest.mark.parametrize(
    ("kill_at", "kill_in_part"),
    [(1, 0), (15, 0), (0, 1), (0, 23)],
    ids=["after-1st-result", "after-15th-result", "in-1st-batch", "in-3rd-batch"],
)
def test_killed_in_the_middle_of_a_batch_then_a_normal_run(
    tmp_path: Path, google_emulator: GoogleEmulator, kill_at: int, kill_in_part: int
) -> None:
    setup = Killable(tmp_path, google_emulator)
    try:
        setup.run_killed(kill_at, kill_in_part)
        assert 0 < len(setup.ours()) < len(expected(setup.jobs)), "killed midway"
        assert setup.run().failed == 0
        setup.assert_exact()
        google_emulator.reset_log()
        assert setup.run().failed == 0 and writes(google_emulator) == 0
    finally:
        setup.close()


def test_killed_while_changes_are_written_then_a_normal_run(
    tmp_path: Path, google_emulator: GoogleEmulator
) -> None:
    setup = Killable(tmp_path, google_emulator)
    try:
        setup.run()
        for i in range(4):
            setup.jobs.edit_appointment(appointment(setup.jobs, skip=i), title=f"Changed {i}")
        for _ in range(4):
            setup.jobs.delete_appointment(appointment(setup.jobs, skip=4))
        setup.run_killed(kill_at=6)
        assert setup.run().failed == 0
        setup.assert_exact()
    finally:
        setup.close()
