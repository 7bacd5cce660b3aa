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

from collections.abc import Sequence
from dataclasses import dataclass, replace

from syncfw.config.models import CalendarConfig, PairConfig, Profile, person_calendar_options
from syncfw.core.attendees import Directory
from syncfw.core.report import PairReport
from syncfw.model import Person

__all__ = [
    "SEPARATOR",
    "PersonPair",
    "empty_directory",
    "person_pairs",
    "retiring_pair",
    "stale_pairs",
]

SEPARATOR = ">"


@dataclass(frozen=True)
class PersonPair:
    """A generated pair, the calendar it writes to, and for whom.

    A *retiring* pair has no source: the engine runs it with nothing to copy, so it
    deletes what the pair wrote to that person's calendar (the past is left alone).
    """

    config: PairConfig
    calendar: CalendarConfig
    person: Person
    retiring: bool = False


def _person_pair(
    profile: Profile, config: PairConfig, person: Person, *, retiring: bool = False
) -> PersonPair:
    # Lower case, so the calendar found again when retiring is the same one.
    email = person.email.lower()
    driver, options = person_calendar_options(profile, config, replace(person, email=email))
    name = f"{config.name}{SEPARATOR}{email}"
    calendar = CalendarConfig(name, driver, options, config.line)
    generated = config.model_copy(
        update={
            "name": name,
            "source": config.target,
            "target": calendar.name,
            "filters": [] if retiring else [{"person": [person.email]}],
            "transforms": [],
            # The master's invitations went out already: copies never invite anyone.
            "attendees": config.attendees.model_copy(
                update={"fan_out": "invite", "notify": "none", "keep_external": False}
            ),
        }
    )
    return PersonPair(generated, calendar, replace(person, email=email), retiring)


def person_pairs(profile: Profile, config: PairConfig, directory: Directory) -> list[PersonPair]:
    """The generated pairs of a copy fan-out: one per person with the sync flag on."""
    return [_person_pair(profile, config, p) for p in directory.syncing()]


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
    return _person_pair(profile, config, who, retiring=True)


def empty_directory(config: PairConfig, stale: int) -> PairReport:
    """The report of a fan-out whose person directory came back empty: a failed read,
    not everyone leaving, so no one's calendar is emptied."""
    return PairReport(
        f"{config.name}{SEPARATOR}*",
        stopped_by_guard=True,
        status="guard",
        error=f"the person directory is empty, so no one's calendar is synced; "
        f"{stale} persons' calendars were left as they are. Check the "
        f"persons source before anything is deleted.",
    )
