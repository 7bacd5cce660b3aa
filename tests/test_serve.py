"""``syncfw serve``: the scheduler on a fake clock, then real processes and real signals."""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncfw.config.loader import load_profile
from syncfw.config.models import Profile
from syncfw.core.report import Failure, PairReport, RunReport
from syncfw.errors import PairBusy, ProfileError, StateError
from syncfw.runtime.serve import Scheduler
from syncfw.sdk.ical import event_to_ical

from .conftest import MakeProfile, event

# -- the scheduler, on a fake clock ---------------------------------------------------------


class FakeEngines:
    """An engine factory on a fake clock. Each run takes ``took[pair]`` seconds and
    returns what ``outcomes[pair]`` holds next (default: ok); the loop is stopped
    once the clock reaches ``until``."""

    def __init__(self, until: float) -> None:
        self.now = 0.0
        self.until = until
        self.took: dict[str, float] = {}
        self.outcomes: dict[str, list[str]] = {}
        self.runs: list[tuple[str, float]] = []  # (pair, started)
        self.stop_requests = 0
        self.closed = 0
        self.scheduler: Scheduler | None = None

    def clock(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        assert seconds > 0, "the loop waited without anything to wait for"
        self.now += seconds
        self._maybe_stop()

    def _maybe_stop(self) -> None:
        if self.now >= self.until and self.scheduler is not None:
            self.scheduler.stop()

    def __call__(self) -> FakeEngines:
        outcome = self.outcomes.get("*factory*")
        if outcome:
            raise StateError(outcome.pop(0))
        return self

    # the engine side
    def run(self, pairs: Sequence[str] | None = None) -> RunReport:
        assert pairs is not None and len(pairs) == 1
        name = pairs[0]
        self.runs.append((name, self.now))
        self.now += self.took.get(name, 0.0)
        queued = self.outcomes.get(name)
        outcome = queued.pop(0) if queued else "ok"
        self._maybe_stop()
        if outcome == "raise":
            raise RuntimeError("driver bug")
        report = PairReport(name, created=1)
        if outcome == "busy":
            report = PairReport(name, error=str(PairBusy(name)), status="busy")
        elif outcome == "partial":
            failures = [Failure(f"k{i}", f"Visit {i}", "b", "refused") for i in range(12)]
            report = PairReport(name, created=1, failed=12, failures=failures, status="partial")
        elif outcome == "error":
            report = PairReport(name, error="calendar 'b' is gone", status="error")
        copies = []
        if outcome == "fan-out":  # attendees.fan_out: copy adds a report per person
            ann = PairReport(f"{name}/Ann", updated=2)
            bob = PairReport(f"{name}/Bob", error="calendar 'bob' is gone", status="error")
            copies = [ann, bob]
        return RunReport(datetime.now(UTC), pairs=[report, *copies])

    def request_stop(self) -> None:
        self.stop_requests += 1

    def close(self) -> None:
        self.closed += 1

    def starts(self, pair: str) -> list[float]:
        return [started for name, started in self.runs if name == pair]


PAIRS = """
version: 1
calendars:
  a: {driver: memory, name: a}
  b: {driver: memory, name: b}
  c: {driver: memory, name: c}
pairs:
  - {name: fast, source: a, target: b, interval_minutes: 1}
  - {name: slow, source: a, target: c, interval_minutes: 3}
"""


@pytest.fixture
def profile(write_profile: MakeProfile) -> Profile:
    return load_profile(write_profile(PAIRS))


def scheduler(
    profile: Profile, engines: FakeEngines, pairs: Sequence[str] | None = None
) -> Scheduler:
    made = Scheduler(profile, engines, pairs=pairs, clock=engines.clock, wait=engines.wait)
    engines.scheduler = made
    return made


def test_every_pair_runs_at_start_then_each_on_its_own_interval(profile: Profile) -> None:
    engines = FakeEngines(until=400)
    scheduler(profile, engines).serve()
    assert engines.starts("fast") == [0, 60, 120, 180, 240, 300, 360]
    assert engines.starts("slow") == [0, 180, 360]
    assert engines.closed == len(engines.runs)  # a fresh engine per run, closed after


def test_a_run_longer_than_its_interval_is_followed_not_stacked(profile: Profile) -> None:
    engines = FakeEngines(until=500)
    engines.took["fast"] = 150  # interval 60 s
    scheduler(profile, engines, pairs=["fast"]).serve()
    assert engines.starts("fast") == [0, 150, 300, 450]


def test_a_slow_pair_delays_a_fast_one_by_one_run_at_most(profile: Profile) -> None:
    engines = FakeEngines(until=700)
    engines.took["slow"] = 150
    made = scheduler(profile, engines, pairs=["slow", "fast"])  # slow first: wins a tie
    made.intervals["slow"] = 60.0  # both due every minute; slow takes 2.5 of them
    made.serve()
    names = [name for name, _ in engines.runs]
    assert names[:8] == ["slow", "fast"] * 4  # on a tie, the one that waited longer
    assert engines.starts("fast")[:4] == [150, 300, 450, 600]


def test_a_busy_pair_is_logged_and_tried_again_at_its_next_interval(
    profile: Profile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "syncfw.runtime.serve")
    engines = FakeEngines(until=130)
    engines.outcomes["fast"] = ["busy"]
    made = scheduler(profile, engines, pairs=["fast"])
    made.serve()
    assert engines.starts("fast") == [0, 60, 120]  # not retried at once
    busy = [r for r in caplog.records if "skipped: busy" in r.getMessage()]
    assert len(busy) == 1 and busy[0].getMessage().startswith("fast: skipped: busy")
    assert "next run in 1 min" in busy[0].getMessage()
    assert made.last["fast"].status == "ok"


def test_a_partial_run_logs_its_failed_events(
    profile: Profile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "syncfw.runtime.serve")
    engines = FakeEngines(until=1e9)
    engines.outcomes["fast"] = ["partial"]
    [run] = scheduler(profile, engines, pairs=["fast"]).run_once()
    assert run.status == "partial"
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert lines[0].startswith("fast: partial, 1 created, 0 updated, 0 deleted, 0 unchanged, 12")
    assert lines[1:3] == ["fast: failed: b: Visit 0: refused", "fast: failed: b: Visit 1: refused"]
    assert len(lines) == 12 and "and 2 more failed" in lines[-1]


def test_a_fanned_out_run_logs_a_line_per_copy_and_counts_the_worst(
    profile: Profile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "syncfw.runtime.serve")
    engines = FakeEngines(until=1e9)
    engines.outcomes["fast"] = ["fan-out"]
    [run] = scheduler(profile, engines, pairs=["fast"]).run_once()
    assert run.status == "error" and [r.name for r in run.reports] == [
        "fast",
        "fast/Ann",
        "fast/Bob",
    ]
    assert [r.getMessage() for r in caplog.records] == [
        "fast: ok, 1 created, 0 updated, 0 deleted, 0 unchanged, 0 failed in 0.00 s",
        "fast/Ann: ok, 0 created, 2 updated, 0 deleted, 0 unchanged, 0 failed",
        "fast/Bob: error: calendar 'bob' is gone",
    ]


def test_errors_are_logged_and_do_not_stop_the_loop(
    profile: Profile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "syncfw.runtime.serve")
    engines = FakeEngines(until=250)
    engines.outcomes = {"*factory*": ["state file is locked"], "fast": ["raise", "error"]}
    made = scheduler(profile, engines, pairs=["fast"])
    made.serve()
    # run 1: the engine could not start; 2: it raised; 3: the pair failed; 4, 5: fine
    assert engines.starts("fast") == [60, 120, 180, 240]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3
    assert "StateError: state file is locked" in errors[0]
    assert "RuntimeError: driver bug" in errors[1]
    assert "calendar 'b' is gone" in errors[2] and errors[2].startswith("fast: error after")
    assert made.last["fast"].status == "ok"
    assert caplog.records[-1].getMessage() == "stopped"


def test_a_stop_during_a_run_reaches_the_engine_and_ends_the_loop(
    profile: Profile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "syncfw.runtime.serve")
    engines = FakeEngines(until=30)
    engines.took["fast"] = 30  # the stop arrives while the first run is in flight
    engines.outcomes["fast"] = ["error"]  # what an interrupted run reports
    made = scheduler(profile, engines)
    made.serve()
    assert engines.runs == [("fast", 0)]  # 'slow' was due too, but never started
    assert engines.stop_requests == 1
    assert made.last["fast"].status == "interrupted"
    assert [r.getMessage() for r in caplog.records][-1] == "stopped"


def test_stop_ends_the_wait_between_runs_at_once(profile: Profile) -> None:
    ran = threading.Event()

    class Quick(FakeEngines):
        def run(self, pairs: Sequence[str] | None = None) -> RunReport:
            ran.set()
            return super().run(pairs)

    made = Scheduler(profile, Quick(until=1e9), pairs=["fast"])  # real clock, real wait
    loop = threading.Thread(target=made.serve)
    loop.start()
    assert ran.wait(5)
    assert 55 < made.due_in()["fast"] <= 60
    began = time.monotonic()
    made.stop()
    loop.join(5)
    assert not loop.is_alive() and time.monotonic() - began < 1


def test_run_once_runs_each_pair_once_in_profile_order(profile: Profile) -> None:
    engines = FakeEngines(until=1e9)
    engines.took = {"fast": 5, "slow": 5}
    engines.outcomes["slow"] = ["busy"]
    runs = scheduler(profile, engines).run_once()
    assert [(r.pair, r.status, r.started, r.seconds) for r in runs] == [
        ("fast", "ok", 0, 5),
        ("slow", "busy", 5, 5),
    ]
    with pytest.raises(ProfileError, match="no pair named 'nope'"):
        scheduler(profile, engines, pairs=["nope"])


# -- real processes ---------------------------------------------------------------------------

SLOW_PLUGIN = '''
"""A test-only ics driver whose reads and writes take their time (SLOW_READ, SLOW_WRITE
seconds) and whose reads are logged to SLOW_LOG as 'pid start end'."""
import dataclasses
import os
import time

from syncfw import hookimpl
from syncfw.drivers.ics import IcsDriver


class SlowIcs(IcsDriver):
    name = "slow-ics"
    capabilities = dataclasses.replace(IcsDriver.capabilities, batch_size=1)

    def read(self, cursor, window):
        start = time.time()
        time.sleep(float(os.environ.get("SLOW_READ", "0")))
        feed = super().read(cursor, window)
        if "SLOW_LOG" in os.environ:
            with open(os.environ["SLOW_LOG"], "a") as log:
                log.write(f"{os.getpid()} {start} {time.time()}\\n")
        return feed

    def write(self, ops):
        for result in super().write(ops):
            time.sleep(float(os.environ.get("SLOW_WRITE", "0")))
            yield result


@hookimpl
def syncfw_register_drivers(register):
    register(SlowIcs)
'''

ICS_PROFILE = """
version: 1
calendars:
  jobs: {{driver: ics, path: jobs.ics, create: false}}
  master: {{driver: {target}, path: master}}
pairs:
  - name: push
    source: jobs
    target: master
    interval_minutes: {interval}
"""


@pytest.fixture
def syncfw_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "slow_plugin.py").write_text(SLOW_PLUGIN)
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "SYNCFW_PLUGINS": "slow_plugin", "PYTHONPATH": path}


def start(env: dict[str, str], *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "syncfw", *args],
        env={**env, **extra},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], sig: int | None = None) -> tuple[int, str, float]:
    """Send ``sig``; return the exit code, stderr and how long the process took to exit."""
    began = time.monotonic()
    if sig is not None:
        proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=15)
    return proc.returncode, stderr, time.monotonic() - began


def wait_for(check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def count(folder: Path) -> int:
    return len(list(folder.glob("*.ics"))) if folder.is_dir() else 0


def test_serve_syncs_picks_up_a_change_on_the_next_interval_and_stops_on_sigterm(
    tmp_path: Path, write_profile: MakeProfile, syncfw_env: dict[str, str]
) -> None:
    (tmp_path / "jobs.ics").write_bytes(event_to_ical([event("a")]))
    profile = write_profile(ICS_PROFILE.format(target="ics", interval=0.02))  # 1.2 s
    proc = start(syncfw_env, "serve", str(profile))
    wait_for(lambda: count(tmp_path / "master") == 1, "the first run")
    (tmp_path / "jobs.ics").write_bytes(event_to_ical([event("a"), event("b")]))
    wait_for(lambda: count(tmp_path / "master") == 2, "the change to be synced")
    code, stderr, took = finish(proc, signal.SIGTERM)
    assert code == 0, stderr
    assert took < 3, f"took {took:.1f} s to stop"
    assert "serving 1 pair" in stderr and "push every 1.2 s" in stderr
    assert stderr.count("push: ok, 1 created") == 2, stderr
    assert stderr.rstrip().endswith("stopped")
    assert "Traceback" not in stderr


def test_two_serve_processes_never_sync_one_pair_at_the_same_time(
    tmp_path: Path, write_profile: MakeProfile, syncfw_env: dict[str, str]
) -> None:
    (tmp_path / "jobs.ics").write_bytes(event_to_ical([event("a")]))
    profile = write_profile(ICS_PROFILE.format(target="slow-ics", interval=0.01))  # 0.6 s
    reads = tmp_path / "reads.log"
    env = {**syncfw_env, "SLOW_READ": "0.5", "SLOW_LOG": str(reads)}
    procs = [start(env, "serve", str(profile)) for _ in range(2)]
    wait_for(lambda: reads.exists() and len(reads.read_text().splitlines()) >= 4, "4 runs")
    results = [finish(proc, signal.SIGTERM) for proc in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    spans = sorted(
        (float(start), float(end), pid)
        for pid, start, end in (line.split() for line in reads.read_text().splitlines())
    )
    for (_, end, pid), (start_, _, other) in itertools.pairwise(spans):
        assert start_ >= end or pid == other, f"{pid} and {other} synced 'push' at once"
    assert any("push: skipped: busy" in stderr for _, stderr, _ in results), results
    assert count(tmp_path / "master") == 1


def test_sigterm_stops_serve_after_the_write_in_flight_and_the_next_run_continues(
    tmp_path: Path, write_profile: MakeProfile, syncfw_env: dict[str, str]
) -> None:
    (tmp_path / "jobs.ics").write_bytes(event_to_ical([event(f"e{i}") for i in range(10)]))
    profile = write_profile(ICS_PROFILE.format(target="slow-ics", interval=1))
    proc = start(syncfw_env, "serve", str(profile), SLOW_WRITE="0.3")  # batches of one
    wait_for(lambda: count(tmp_path / "master") >= 1, "the first write")
    code, stderr, took = finish(proc, signal.SIGTERM)
    assert code == 0 and took < 2, (code, took, stderr)
    written = count(tmp_path / "master")
    assert 1 <= written <= 3
    assert "push: interrupted after" in stderr and stderr.rstrip().endswith("stopped")
    status = start(syncfw_env, "status", str(profile), "--json")
    last = json.loads(status.communicate(timeout=15)[0])["pairs"][0]["last_run"]
    assert (last["status"], last["created"]) == ("interrupted", written)
    again = start(syncfw_env, "serve", str(profile), "--once")
    code, stderr, _ = finish(again)
    assert code == 0, stderr
    assert f"push: ok, {10 - written} created" in stderr
    assert count(tmp_path / "master") == 10


def test_run_stops_gracefully_on_the_first_ctrl_c_and_at_once_on_the_second(
    tmp_path: Path, write_profile: MakeProfile, syncfw_env: dict[str, str]
) -> None:
    (tmp_path / "jobs.ics").write_bytes(event_to_ical([event(f"e{i}") for i in range(10)]))
    profile = write_profile(ICS_PROFILE.format(target="slow-ics", interval=1))
    proc = start(syncfw_env, "run", str(profile), SLOW_WRITE="0.4")
    wait_for(lambda: count(tmp_path / "master") >= 1, "the first write")
    code, stderr, took = finish(proc, signal.SIGINT)
    assert code == 1 and took < 2, (code, took, stderr)
    assert "stopped: SIGINT: the run ended after the changes in flight" in stderr
    assert "stopped on request" in stderr and "Traceback" not in stderr
    assert count(tmp_path / "master") < 10

    before = count(tmp_path / "master")
    proc = start(syncfw_env, "run", str(profile), SLOW_WRITE="5")
    wait_for(lambda: count(tmp_path / "master") > before, "a write of the second run")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    code, stderr, took = finish(proc, signal.SIGINT)  # mid-write: no waiting for it
    assert code == 128 + signal.SIGINT and took < 2, (code, took, stderr)
    assert "SIGINT again: exiting now" in stderr
