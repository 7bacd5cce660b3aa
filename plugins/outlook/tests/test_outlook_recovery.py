"""The Outlook example recovering from what goes wrong, each ending exactly right.

Expired delta tokens (410), concurrent edits (412), throttling inside and outside
$batch, 503s, a read that fails half-way, and a process killed with SIGKILL in the
middle of a batch. After each, the master calendar holds the job calendar exactly and
nothing twice (``Reflex.assert_exact``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from _outlook_support import outlook_driver
from graph_emulator import GraphEmulator
from test_outlook_e2e import PAIR, Reflex, appointment, deltas, writes

from syncfw.errors import CursorExpired
from syncfw.sdk.driver import WriteOp, WriteResult
from syncfw.testing import fresh_window
from syncfw.testing.killing import run_killed
from syncfw_jobcal.testing import expected_items
from syncfw_outlook import OutlookDriver
from syncfw_outlook.transport import Graph, Reply, Request


@pytest.fixture
def reflex(tmp_path: Path, graph_emulator: GraphEmulator) -> Iterator[Reflex]:
    setup = Reflex(tmp_path, graph_emulator)
    yield setup
    setup.close()


def test_expired_delta_token_with_deletions_in_between(reflex: Reflex) -> None:
    emulator = reflex.emulator
    reflex.run()
    gone_in_jobs, gone_in_outlook, drifted = (appointment(reflex.jobs, skip=i) for i in range(3))
    reflex.jobs.delete_appointment(gone_in_jobs)
    emulator.delete_event(reflex.outlook_event(gone_in_outlook)["id"])
    emulator.edit(reflex.outlook_event(drifted)["id"], subject="Edited by hand in Outlook")
    emulator.expire_delta_tokens()
    emulator.reset_log()
    report = reflex.run()
    tokens = [r for r in emulator.requests if "/delta" in r.path and "$deltatoken" in r.query]
    full = [r for r in emulator.requests if "/delta" in r.path and "startDateTime" in r.query]
    assert tokens and full, "the stale token was tried (410), then everything was read"
    assert report.deleted == 1 and report.created + report.updated == 2
    reflex.assert_exact()  # deleted in jobs: gone; deleted/edited in Outlook: repaired
    emulator.reset_log()
    assert reflex.run().unchanged and writes(emulator) == 0 and deltas(emulator) == 1


def test_a_cursor_to_another_endpoint_expires_and_is_never_followed(
    graph_emulator: GraphEmulator,
) -> None:
    calendar = graph_emulator.add_calendar("Moved")
    link = "https://elsewhere.example/v1.0/me/calendarView/delta?$deltatoken=abc"
    with outlook_driver(graph_emulator, calendar.id) as driver:
        graph_emulator.reset_log()
        for cursor in (link, json.dumps({"link": link, "occ": {}})):
            with pytest.raises(CursorExpired, match="not to"):
                driver.read(cursor, fresh_window())
        assert graph_emulator.requests == [], "the stored link was not followed"
        assert driver.settle(link, {}) is None


def test_event_edited_in_outlook_between_read_and_write(
    reflex: Reflex, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = reflex.emulator
    reflex.run()
    renamed, drifted = appointment(reflex.jobs), appointment(reflex.jobs, skip=1)
    reflex.jobs.edit_appointment(renamed, title="Renamed in the job calendar")
    key = reflex.outlook_event(renamed)["id"]
    write = OutlookDriver.write
    edits: list[str] = []

    def edit_first(self: OutlookDriver, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        if not edits:  # someone edits in Outlook after syncfw read, before it writes
            for uid, title in ((renamed, "Edited in Outlook"), (drifted, "Also edited")):
                emulator.edit(reflex.outlook_event(uid)["id"], subject=title)
                edits.append(uid)
        results: Iterator[WriteResult] = write(self, ops)
        return results

    monkeypatch.setattr(OutlookDriver, "write", edit_first)
    emulator.reset_log()
    report = reflex.run()
    patches = [r for r in emulator.requests if r.method == "PATCH" and key in r.path]
    assert len(patches) == 2, "a 412 on the stale etag, then a write after re-reading"
    assert patches[0].headers.get("If-Match") != patches[1].headers.get("If-Match")
    assert report.failed == 0 and not report.failures
    assert reflex.outlook_event(renamed)["subject"] == "Renamed in the job calendar"
    reflex.assert_exact()  # the drift on the other event was repaired by the re-plan too


def test_throttling_inside_batches_and_503s(reflex: Reflex) -> None:
    emulator = reflex.emulator
    emulator.inject(503, count=2, path="/delta", method="GET")
    emulator.inject(429, retry_after=0.02, count=2, path="$batch")
    emulator.inject(503, count=2, path="$batch")
    emulator.inject(429, retry_after=0.01, count=5, in_batch=True, method="POST")
    emulator.inject(503, count=3, in_batch=True, method="POST")
    emulator.inject(504, count=2, in_batch=True, method="POST")
    report = reflex.run()
    assert report.failed == 0 and report.created > 20
    assert all(f.count == 0 for f in emulator._faults), "every injected fault was hit"
    posts = [r for r in emulator.requests if r.in_batch and r.method == "POST"]
    assert len(posts) == report.created + 5 + 3 + 2, "only the refused requests were sent again"
    reflex.assert_exact()
    emulator.inject(429, retry_after=0.01, count=3, in_batch=True)
    reflex.jobs.edit_appointment(appointment(reflex.jobs), title="After the burst")
    reflex.jobs.delete_appointment(appointment(reflex.jobs, skip=1))
    reflex.run()
    reflex.assert_exact()


def test_throttling_that_does_not_end_is_reported_and_the_next_run_writes_it(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    reflex = Reflex(tmp_path, graph_emulator)
    try:
        graph_emulator.inject(429, retry_after=0.001, count=10**6, in_batch=True, method="POST")
        first = reflex.run(ok=False)
        assert first.status == "partial" and first.created == 0
        assert first.failed == len(expected_items(reflex.jobs, PAIR))
        assert "429" in first.failures[0].message
        assert reflex.ours() == {}
        graph_emulator._faults.clear()
        assert reflex.run().failed == 0  # the next run writes what was refused
        reflex.assert_exact()
    finally:
        reflex.close()


def test_a_read_that_fails_half_way_deletes_nothing(
    tmp_path: Path, graph_emulator: GraphEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    reflex = Reflex(tmp_path, graph_emulator, page_size=5)
    try:
        reflex.run()
        reflex.jobs.edit_appointment(appointment(reflex.jobs), title="Changed meanwhile")
        graph_emulator.expire_delta_tokens()  # the next read is a full one, several pages
        send = Graph.send
        pages = 0

        def fail_after_two_pages(self: Graph, request: Request, what: str) -> Reply:
            nonlocal pages
            if "delta" in request.url and "$skiptoken" in request.url:
                pages += 1
                if pages == 2:
                    graph_emulator.inject(503, count=100, path="/delta")
            return send(self, request, what)

        monkeypatch.setattr(Graph, "send", fail_after_two_pages)
        before = dict(reflex.ours())
        failed = reflex.run(ok=False)
        assert failed.status == "error" and "503" in (failed.error or "")
        assert (failed.created, failed.updated, failed.deleted) == (0, 0, 0)
        assert dict(reflex.ours()) == before, "nothing written, nothing deleted"
        monkeypatch.undo()
        graph_emulator._faults.clear()
        assert reflex.run().failed == 0
        reflex.assert_exact()
    finally:
        reflex.close()


def test_the_cli_exits_non_zero_when_a_read_fails(reflex: Reflex) -> None:
    reflex.run()
    reflex.emulator.inject(503, count=100, path="/delta")
    done = subprocess.run(
        [sys.executable, "-m", "syncfw", "run", str(reflex.profile)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "503" in done.stdout + done.stderr


# -- SIGKILL in the middle of a batch ----------------------------------------------------------


class Killable(Reflex):
    """The example, run once by ``python -m syncfw run`` in a child process to kill."""

    def __init__(self, root: Path, emulator: GraphEmulator) -> None:
        super().__init__(root, emulator, batch_size=10)
        self.root = root

    def run_killed(self, kill_at: int = 0, kill_in_part: int = 0) -> None:
        """Kill syncfw after the driver yielded ``kill_at`` results, or while the emulator
        answers the ``kill_in_part``-th write of a batch (its request in flight)."""
        run_killed(
            self.profile,
            OutlookDriver,
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
    tmp_path: Path, graph_emulator: GraphEmulator, kill_at: int, kill_in_part: int
) -> None:
    setup = Killable(tmp_path, graph_emulator)
    try:
        setup.run_killed(kill_at, kill_in_part)
        assert 0 < len(setup.ours()) < len(expected_items(setup.jobs, PAIR)), "killed midway"
        assert setup.run().failed == 0
        setup.assert_exact()
        graph_emulator.reset_log()
        assert setup.run().failed == 0 and writes(graph_emulator) == 0
    finally:
        setup.close()


def test_killed_while_changes_are_written_then_a_normal_run(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    setup = Killable(tmp_path, graph_emulator)
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


def test_a_batch_whose_answer_is_lost_is_sent_again_without_duplicates(reflex: Reflex) -> None:
    # Graph runs the first requests of the batch, then the connection drops: syncfw never
    # sees the answer and sends the batch again; the creates' transactionIds make Graph
    # answer with the events it already made.
    reflex.emulator.inject(drop=True, count=1, in_batch=True, method="POST")
    report = reflex.run()
    assert report.failed == 0
    posts = [r for r in reflex.emulator.requests if r.in_batch and r.method == "POST"]
    assert len(posts) > report.created, "some creates were sent twice"
    reflex.assert_exact()  # and none of them made a second event


def test_a_refused_token_stops_with_what_to_do_and_never_shows_the_token(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    graph_emulator.token = "the-right-token"
    reflex = Reflex(tmp_path, graph_emulator)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "syncfw", "run", str(reflex.profile)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1
        output = done.stdout + done.stderr
        assert "401" in output and "syncfw auth outlook" in output
        assert "test-token" not in output and "Traceback" not in output
        assert [c.name for c in graph_emulator._mailbox(None).calendars.values()] == ["Calendar"]
    finally:
        reflex.close()
