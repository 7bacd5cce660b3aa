"""Review: a hypothesis state machine over memory calendars.

Random source edits, hand edits and deletions in the target, foreign events,
expired cursors, injected write failures and runs killed after k writes. After
every run that reports no failure the target must hold exactly the source's
events inside the window (syncfw's items), foreign events untouched, and a
second run right away must be a no-op.
"""

from __future__ import annotations

import tempfile
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from syncfw.config.loader import load_profile
from syncfw.core.policies import UID_PREFIX, target_uid
from syncfw.core.report import RunReport
from syncfw.drivers.memory import MemoryStore
from syncfw.errors import DriverError
from syncfw.hooks.manager import Plugins
from syncfw.model import Event, Window
from syncfw.runtime.engine import Engine
from syncfw.sdk.driver import WriteOp

from .special_drivers import ReviewDrivers

T0 = datetime(2031, 3, 10, 8, 0, tzinfo=UTC)
WINDOW = Window.around(T0, past_days=7, future_days=60)
KEYS = st.sampled_from(["a", "b", "c", "d", "e", "f"])
# Behind the window (which starts 7 days back), inside it, and beyond its end.
DAYS = st.integers(min_value=-15, max_value=75)
TITLES = st.sampled_from(["x", "y", "z"])


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no except Exception catches it."""


def ev(uid: str, title: str, day: int) -> Event:
    start = T0 + timedelta(days=day)
    return Event(uid=uid, title=title, start=start, end=start + timedelta(hours=1))


class SyncMachine(RuleBasedStateMachine):
    target_driver = "memory"

    def __init__(self) -> None:
        super().__init__()
        MemoryStore.reset_all()
        self.src, self.dst = MemoryStore.named("src"), MemoryStore.named("dst")
        root = Path(tempfile.mkdtemp())
        self.profile = root / "profile.yaml"
        self.profile.write_text(
            textwrap.dedent(f"""
            version: 1
            calendars:
              src: {{driver: memory, name: src}}
              dst: {{driver: {self.target_driver}, name: dst}}
            pairs:
              - name: push
                source: src
                target: dst
                window: {{past_days: 7, future_days: 60}}
            """)
        )
        self.foreign: dict[str, Event] = {}
        self.failing: set[str] = set()
        self.log: list[str] = []

    # -- the world changes ------------------------------------------------------

    @rule(key=KEYS, title=TITLES, day=DAYS)
    def source_put(self, key: str, title: str, day: int) -> None:
        self.src.put(ev(key, title, day))

    @rule(key=KEYS)
    def source_remove(self, key: str) -> None:
        self.src.remove(key)

    def _keys_of(self, key: str) -> list[str]:
        uid = target_uid("push", key)
        return [k for k, e in self.dst.events().items() if e.uid == uid]

    @rule(key=KEYS, title=TITLES, day=DAYS)
    def target_hand_edit(self, key: str, title: str, day: int) -> None:
        for k in self._keys_of(key):
            with self.dst._lock:
                self.dst._store(k, ev(target_uid("push", key), "hand " + title, day))

    @rule(key=KEYS)
    def target_hand_delete(self, key: str) -> None:
        for k in self._keys_of(key):
            self.dst.remove(k)

    @rule(n=st.integers(0, 2), day=DAYS)
    def foreign_put(self, n: int, day: int) -> None:
        e = ev(f"foreign-{n}", f"foreign {n}", day)
        self.dst.put(e)
        self.foreign[e.uid] = e

    @rule(which=st.sampled_from(["src", "dst"]))
    def expire(self, which: str) -> None:
        MemoryStore.named(which).expire_cursors()

    @rule(key=KEYS)
    def fail_writes_of(self, key: str) -> None:
        self.failing.add(target_uid("push", key))

    @rule()
    def heal(self) -> None:
        self.failing.clear()

    # -- runs -----------------------------------------------------------------

    def _fail_on(self, kill_after: int | None) -> None:
        writes = 0

        def fail_on(op: WriteOp) -> DriverError | None:
            nonlocal writes
            uid = op.event.uid if op.event else op.key
            if uid in self.failing:
                return DriverError(f"injected failure for {uid}")
            writes += 1
            if kill_after is not None and writes > kill_after:
                raise Killed
            return None

        self.dst.fail_on = fail_on

    def _run(self) -> RunReport:
        plugins = Plugins(extra=[ReviewDrivers()])
        with Engine(load_profile(self.profile, plugins), plugins=plugins, now=lambda: T0) as engine:
            return engine.run()

    @rule()
    def run(self) -> None:
        self._fail_on(None)
        report = self._run()
        p = report.pairs[0]
        self.log.append(f"run exit={report.exit_code} {p.created}/{p.updated}/{p.deleted}")
        assert report.exit_code in (0, 1), p.error
        if report.exit_code == 0:
            self.check_target()
            self.dst.fail_on = None
            again = self._run()
            q = again.pairs[0]
            assert (again.exit_code, q.created, q.updated, q.deleted) == (0, 0, 0, 0), (
                f"second run not a no-op: {q}"
            )

    @rule(k=st.integers(0, 4))
    def run_killed(self, k: int) -> None:
        self._fail_on(k)
        try:
            self._run()
        except Killed:
            self.log.append(f"killed after {k} writes")
        self.dst.fail_on = None

    # -- what must hold ---------------------------------------------------------

    def check_target(self) -> None:
        want = {
            target_uid("push", key): e.content_hash()
            for key, e in self.src.events().items()
            if WINDOW.overlaps(e)
        }
        have: dict[str, list[str]] = {}
        for e in self.dst.events().values():  # what lies behind the window is left alone
            if e.uid.startswith(UID_PREFIX) and WINDOW.overlaps(e):
                have.setdefault(e.uid, []).append(e.content_hash())
        assert {u: [h] for u, h in want.items()} == have, "target != source in the window"

    @invariant()
    def foreign_untouched(self) -> None:
        events = self.dst.events()
        for uid, e in self.foreign.items():
            assert events.get(uid) == e, f"foreign event {uid} was touched"


SyncMachine.TestCase.settings = settings(
    max_examples=80,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_sync_machine = SyncMachine.TestCase


class ServerIdMachine(SyncMachine):
    """The same with a target whose keys the server chooses (Google/Graph-like)."""

    target_driver = "server-ids"


ServerIdMachine.TestCase.settings = SyncMachine.TestCase.settings
test_sync_machine_server_ids = ServerIdMachine.TestCase
