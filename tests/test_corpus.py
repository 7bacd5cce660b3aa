"""Real-world calendars synced ics -> ics, compared instance by instance with recurring-ical-events.

The corpus is the test calendars shipped inside the installed packages icalendar
(``icalendar/tests/**/*.ics``) and recurring-ical-events
(``recurring_ical_events/test/calendars/*.ics``), both dependencies of syncfw. Each file
is synced in both recurrence modes into an ics folder; the target's instances (its events
in expand mode, its series expanded by recurring-ical-events in series mode) must equal
``recurring_ical_events.of(source).between(window)``: start (a UTC instant, or a date),
end and SUMMARY of every instance (issue 10, "Must be shown by tests", first point).

The window: the corpus spans 1996 to 2026, so one fixed window either misses most files
or, wide enough for all, expands daily series into thousands of instances (syncfw writes
about 100 instance files a second, each with its VTIMEZONE). Each file is therefore
looked at around its own dates: NOW is fixed per file, the day after its earliest
VEVENT DTSTART (2025-01-01 for a file without one), with ``past_days: 2`` and
``future_days = horizon_days = HORIZON_DAYS``. Every series thus has its first
instances in the window, and the results never depend on today.

A file both syncfw and recurring-ical-events cannot read is skipped with the reason;
every other difference is in :data:`tests.corpus_expected.EXPECTED` with its reason.
"""

from __future__ import annotations

import contextlib
import shutil
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events

from syncfw import Engine, PairReport, load_profile

from .corpus_expected import BUG, EXPECTED, LENIENT, NOT_A_CALENDAR, OMITTED, REFUSED

HORIZON_DAYS = 180
PAST_DAYS = 2
DEFAULT_ANCHOR = date(2025, 1, 1)

PROFILE = """
version: 1
calendars:
  src: {{driver: ics, path: '{src}', create: false}}
  dst: {{driver: ics, path: '{dst}'}}
pairs:
  - name: corpus
    source: src
    target: dst
    window: {{past_days: {past}, future_days: {horizon}}}
    recurrence: {{mode: {mode}, horizon_days: {horizon}}}
"""

Instant = tuple[str, str]
Instance = tuple[Instant, Instant, str]


def corpus() -> Iterator[tuple[str, Path]]:
    """(id, path) of every corpus file; the id is the path relative to its package."""
    for package, folder in ((icalendar, "tests"), (recurring_ical_events, "test/calendars")):
        root = Path(package.__file__).parent / folder
        for path in sorted(root.rglob("*.ics")):
            yield f"{package.__name__}/{path.relative_to(root).as_posix()}", path


def cases() -> Iterator[object]:
    for ident, path in corpus():
        for mode in ("expand", "series"):
            entry = EXPECTED.get((ident, mode))
            marks = []
            if entry is not None and entry[0] == BUG:
                marks.append(pytest.mark.xfail(strict=True, reason=entry[1]))
            yield pytest.param(ident, path, mode, marks=marks, id=f"{ident}-{mode}")


def instant(value: object) -> Instant:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating: syncfw takes it as UTC (syncfw.sdk.ical, by design)
            value = value.replace(tzinfo=UTC)
        return ("utc", value.astimezone(UTC).isoformat())
    if isinstance(value, date):
        return ("date", value.isoformat())
    return ("other", repr(value))


def instance(event: icalendar.Event) -> Instance:
    return (instant(event.start), instant(event.end), str(event.get("SUMMARY", "")))


def anchor(calendar: icalendar.Calendar) -> date:
    """The UTC day of the earliest readable VEVENT DTSTART."""
    days = []
    for event in calendar.walk("VEVENT"):
        try:
            value = event["DTSTART"].dt
        except Exception:  # missing, broken or repeated: the file says what it is
            continue
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
            value = value.date()
        if isinstance(value, date):
            days.append(value)
    return min(days, default=DEFAULT_ANCHOR)


def window(day: date) -> tuple[datetime, datetime]:
    """The pair's window for a file anchored at ``day``: NOW is the next midnight (UTC), and
    syncfw's window is whole UTC days, from ``past_days`` before today to the end of
    today + ``future_days`` (:meth:`syncfw.Window.around`)."""
    today = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return today - timedelta(days=PAST_DAYS), today + timedelta(days=HORIZON_DAYS + 1)


@dataclass
class Outcome:
    reference: list[Instance] | None  # None: recurring-ical-events cannot read the file
    reference_error: str
    synced: list[Instance]
    report: PairReport

    @property
    def problems(self) -> list[str]:
        found = [f.message for f in self.report.failures]
        return found + ([self.report.error] if self.report.error else [])


def sync(path: Path, mode: str, tmp_path: Path) -> Outcome:
    data = path.read_bytes()
    reference: list[Instance] | None = None
    reference_error = ""
    day = DEFAULT_ANCHOR
    with contextlib.suppress(Exception):  # also for a file the reference cannot read
        day = min(anchor(c) for c in icalendar.Calendar.from_ical(data, multiple=True))
    try:
        calendar = icalendar.Calendar.from_ical(data)
        start, end = window(day)
        reference = sorted(map(instance, recurring_ical_events.of(calendar).between(start, end)))
    except Exception as exc:  # the reference cannot read it: see what syncfw says
        reference_error = f"{type(exc).__name__}: {exc}"
    start, end = window(day)
    now = start + timedelta(days=PAST_DAYS)

    src, dst = tmp_path / "source.ics", tmp_path / "target"
    shutil.copy(path, src)
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        PROFILE.format(src=src, dst=dst, past=PAST_DAYS, horizon=HORIZON_DAYS, mode=mode)
    )
    with Engine(load_profile(profile), now=lambda: now) as engine:
        report = engine.run()  # any exception here is a crash: the test fails
    (pair,) = report.pairs

    synced: list[Instance] = []
    for file in sorted(dst.glob("*.ics")) if dst.exists() else ():
        written = icalendar.Calendar.from_ical(file.read_bytes())
        if mode == "expand":
            synced += map(instance, written.walk("VEVENT"))
        else:
            try:
                synced += map(instance, recurring_ical_events.of(written).between(start, end))
            except Exception as exc:  # what syncfw wrote, the reference cannot read
                synced.append((("unreadable", file.name), ("error", str(exc)), ""))
    return Outcome(reference, reference_error, sorted(synced), pair)


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():  # the corpus is full of what parsers warn about
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize(("ident", "path", "mode"), list(cases()))
def test_a_corpus_file_syncs_to_the_instances_recurring_ical_events_gives(
    ident: str, path: Path, mode: str, tmp_path: Path
) -> None:
    outcome = sync(path, mode, tmp_path)  # an exception (a crash of syncfw) fails the test
    entry = EXPECTED.get((ident, mode))
    if outcome.reference is None and outcome.problems and not outcome.synced:
        assert entry is None, f"{ident} {mode}: unreadable by both, yet in EXPECTED"
        pytest.skip(
            f"unreadable: recurring-ical-events: {outcome.reference_error[:120]}; "
            f"syncfw reported: {outcome.problems[0][:160]}"
        )
    if entry is None or entry == (BUG, entry[1]):  # a bug's case: strict xfail until fixed
        check_identical(outcome)
    elif entry[0] == BUG:  # once fixed, what remains must be the design difference
        check(outcome, entry[2], reason=entry[1], source=path)
    else:
        check(outcome, entry[0], reason=entry[1], source=path)


def check_identical(outcome: Outcome) -> None:
    assert not outcome.problems, outcome.problems
    assert outcome.synced == outcome.reference


def check(outcome: Outcome, kind: str, *, reason: str, source: Path | None = None) -> None:
    """The difference is exactly the one ``reason`` gives for it."""
    synced, reference = Counter(outcome.synced), Counter(outcome.reference or ())
    if kind == NOT_A_CALENDAR:
        assert outcome.synced == [], reason
        assert "outside BEGIN:VCALENDAR" in (outcome.report.error or ""), outcome.problems
    elif kind == REFUSED:  # the refused events are reported; the rest arrived unchanged
        assert outcome.problems, f"{reason}: yet syncfw reported nothing"
        assert not synced - reference, reason
    elif kind == OMITTED:  # cancelled instances (STATUS:CANCELLED) are not synced
        assert not outcome.problems, outcome.problems
        assert source is not None and b"STATUS:CANCELLED" in source.read_bytes()
        assert not synced - reference and reference - synced, reason
    elif kind == LENIENT:
        assert outcome.reference is None, reason
    else:
        pytest.fail(f"unknown kind {kind!r} in corpus_expected.py")
