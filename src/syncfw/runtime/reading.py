"""What one pass of a pair works on: the pair resolved, both sides read, the scope tag.

The engine reads each side through :func:`collect`; a cursor is only good for the scope
it was read in (:func:`scope_tag`: the window's day, the persons, the pair's steps).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from syncfw.config.models import PairConfig
from syncfw.core.attendees import Directory
from syncfw.core.policies import Side, SideRead
from syncfw.errors import CursorExpired
from syncfw.model import Link, Window
from syncfw.runtime.state import State
from syncfw.sdk.driver import Driver

__all__ = [
    "PairRun",
    "Read",
    "Stopwatch",
    "collect",
    "keeping_overrides",
    "no_gc_pauses",
    "read_side",
    "scope_tag",
    "settle",
    "settle_held",
]

log = logging.getLogger(__name__)


@dataclass
class PairRun:
    """Everything one pair's sync needs, resolved from the profile."""

    config: PairConfig
    source: Driver | None  # None: nothing to copy (a person's pair being retired)
    target: Driver
    window: Window


@dataclass(frozen=True)
class Read:
    """What a pass of a pair read: both sides, the scope they were read for, the links."""

    source: SideRead
    target: SideRead
    tag: str  # the scope tag stored with the cursors
    directory: Directory
    mappings: dict[str, Link]


def keeping_overrides(pair: PairRun) -> frozenset[Side]:
    """The sides that store a series' changed instances (two-sided pairs write both)."""
    sides: list[Side] = []
    if pair.source is not None and pair.source.capabilities.native_recurrence:
        sides.append("source")
    if pair.target.capabilities.native_recurrence:
        sides.append("target")
    return frozenset(sides)


def scope_tag(pair: PairRun, directory: Directory) -> str:
    """What decides which events are in scope: the window, the persons, the pair's steps."""
    c = pair.config
    scope = (
        c.policy,  # another policy compares differently: read both sides afresh
        sorted((p.email.lower(), p.name, p.sync, sorted(p.aliases)) for p in directory),
        c.filters,
        c.transforms,
        c.recurrence.model_dump(),
        c.attendees.model_dump(),
    )
    digest = hashlib.blake2b(repr(scope).encode(), digest_size=8).hexdigest()
    return f"{pair.window.tag}|{digest}"


def collect(calendar: str, driver: Driver, cursor: str | None, window: Window) -> SideRead:
    feed = driver.read(cursor, window)
    changes = {change.key: change for change in feed}
    return SideRead(calendar, changes, feed.full, feed.cursor)


def read_side(
    state: State, pair: str, driver: Driver, window: Window, tag: str, *, full: bool
) -> SideRead:
    """One side's feed: from its stored cursor when that is good for ``tag`` and the driver
    reads incrementally, else in full; a cursor the provider rejects is read again in full."""
    calendar = driver.context.calendar
    cursor, stored_tag = state.cursor(pair, calendar)
    if full or not driver.capabilities.incremental or stored_tag != tag:
        cursor = None
    try:
        return collect(calendar, driver, cursor, window)
    except CursorExpired as exc:
        if cursor is None:
            raise
        log.warning("%s; reading %s in full", exc, calendar)
        return collect(calendar, driver, None, window)


def settle(driver: Driver, cursor: str, ours: dict[str, str | None], clock: Stopwatch) -> str:
    """The driver's cursor past this run's own writes, if it has one; else ``cursor``."""
    try:
        with clock("read"):
            return driver.settle(cursor, ours) or cursor
    except Exception as exc:  # only an optimisation: the next run reads the writes back
        log.debug("%s: settling the cursor failed: %s", driver.context.calendar, exc)
        return cursor


def settle_held(
    state: State,
    pair: str,
    driver: Driver,
    read: SideRead,
    tag: str,
    ours: dict[str, str | None] | None,
    clock: Stopwatch,
) -> None:
    """A held cursor (a phase leaves that side's changes to the other phase) still moves
    past this run's own writes when they are all that changed since it: otherwise a
    feed that omits items made and removed after its cursor (Graph's delta) would never
    report the removal of an event this run made."""
    stored, stored_tag = state.cursor(pair, read.calendar)
    if not ours or stored is None or stored_tag != tag:
        return
    settled = settle(driver, stored, ours, clock)
    if settled != stored:
        state.set_cursor(pair, read.calendar, settled, tag)


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    # Planning allocates many small objects and no cycles; the cyclic collector would
    # only rescan them over and over (a third of the planning time at 100k events).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Stopwatch:
    """Adds the wall time of each phase to a dict: ``with clock("read"): ...``."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - began
            self.into[phase] = round(self.into.get(phase, 0.0) + elapsed, 6)
