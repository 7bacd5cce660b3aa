"""Fan-out by copy: one generated pair per person, from the master to their own calendar.

A pair with ``attendees: {fan_out: copy, calendar: {...}}`` pushes its target (the
master calendar) on to a calendar per person whose sync flag is on, built from
the ``calendar`` template, holding only the events the person attends. Generated
pairs are named ``<pair>><email>`` and run right after their pair.

A person who leaves (sync flag off, or a new address) leaves a generated pair in
the state that no longer matches anyone: it is *retired* — its events are deleted
from that calendar (the past is left alone) and its state dropped. A directory that
comes back empty retires no one: that is a failed read, not everyone leaving.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from syncfw.config.models import CalendarConfig, PairConfig, Profile, person_calendar_options
from syncfw.core.attendees import Directory
from syncfw.core.report import PairReport
from syncfw.errors import SyncfwError
from syncfw.model import Person, Window
from syncfw.sdk.driver import Capabilities, Cursor, Driver, Feed, WriteOp, WriteResult

if TYPE_CHECKING:
    from syncfw.runtime.engine import Engine, Progress

__all__ = [
    "NOTHING",
    "Nothing",
    "PersonPair",
    "person_pairs",
    "retiring_pair",
    "run",
    "stale_pairs",
]

log = logging.getLogger(__name__)

SEPARATOR = ">"
NOTHING = "(nothing)"


@dataclass(frozen=True)
class PersonPair:
    """A generated pair and the calendar it writes to."""

    config: PairConfig
    calendar: CalendarConfig
    person: Person


class Nothing(Driver):
    """A calendar that is always empty: the source of a retiring pair."""

    name = NOTHING
    capabilities = Capabilities(write=False)

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        return Feed((), full=True)

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        raise NotImplementedError("nothing is written to an empty source")


def _person_pair(profile: Profile, config: PairConfig, person: Person, source: str) -> PersonPair:
    # Lower case, so the calendar found again when retiring is the same one.
    email = person.email.lower()
    driver, options = person_calendar_options(profile, config, replace(person, email=email))
    name = f"{config.name}{SEPARATOR}{email}"
    calendar = CalendarConfig(name, driver, options, config.line)
    generated = config.model_copy(
        update={
            "name": name,
            "source": source,
            "target": calendar.name,
            "filters": [{"person": [person.email]}] if source != NOTHING else [],
            "transforms": [],
            # The master's invitations went out already: copies never invite anyone.
            "attendees": config.attendees.model_copy(
                update={"fan_out": "invite", "notify": "none", "keep_external": False}
            ),
        }
    )
    return PersonPair(generated, calendar, replace(person, email=email))


def person_pairs(profile: Profile, config: PairConfig, directory: Directory) -> list[PersonPair]:
    """The generated pairs of a copy fan-out: one per person with the sync flag on."""
    return [_person_pair(profile, config, p, config.target) for p in directory.syncing()]


def stale_pairs(config: PairConfig, current: Sequence[PersonPair], known: set[str]) -> list[str]:
    """Generated pairs of this pair (``known``: those the state recorded a person for)
    that no person matches any more."""
    prefix = config.name + SEPARATOR
    names = {p.config.name for p in current}
    return sorted(n for n in known if n.startswith(prefix) and n not in names)


def retiring_pair(
    profile: Profile, config: PairConfig, name: str, person: tuple[str, str] | None
) -> PersonPair:
    """A generated pair that empties the calendar of a person who left.

    ``person`` is the (name, email) the pair was made for, as the state remembers it.
    """
    email = name[len(config.name) + len(SEPARATOR) :]
    who = Person(name=person[0], email=person[1]) if person else Person(name=email, email=email)
    return _person_pair(profile, config, who, NOTHING)


def run(
    engine: Engine, config: PairConfig, *, dry_run: bool, force: bool, progress: Progress | None
) -> list[PairReport]:
    """The pairs to each person's own calendar, and the retiring of those who left."""
    try:
        directory = engine.directory()
        current = person_pairs(engine.profile, config, directory)
    except Exception as exc:  # a broken person source fails the fan-out, not the run
        message = str(exc) if isinstance(exc, SyncfwError) else f"{type(exc).__name__}: {exc}"
        log.error("%s: persons: %s", config.name, message)
        return [PairReport(f"{config.name}{SEPARATOR}*", error=message, status="error")]
    reports = []
    for person in current:
        engine.add_calendar(person.calendar)
        if not dry_run:
            engine.state.set_pair_person(
                person.config.name, person.person.name, person.person.email
            )
        reports.append(
            engine.sync_pair(person.config, dry_run=dry_run, force=force, progress=progress)
        )
    stale = stale_pairs(config, current, engine.state.generated_pairs())
    if stale and not len(directory):
        reports.append(
            PairReport(
                f"{config.name}{SEPARATOR}*",
                stopped_by_guard=True,
                status="guard",
                error=f"the person directory is empty, so no one's calendar is synced; "
                f"{len(stale)} persons' calendars were left as they are. Check the "
                f"persons source before anything is deleted.",
            )
        )
        return reports
    for name in stale:  # persons who left: empty their calendars, forget them
        retiring = retiring_pair(engine.profile, config, name, engine.state.pair_person(name))
        engine.add_calendar(retiring.calendar)
        report = engine.sync_pair(retiring.config, dry_run=dry_run, force=True, progress=progress)
        if not (dry_run or report.error or report.failed):
            engine.state.forget_pair(name)
        reports.append(report)
    return reports
