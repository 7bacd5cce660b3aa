"""Attendees per person: one canonical attendee each, and answers that survive re-pushes.

The person directory (from the job calendar's person master data, or the profile's
``persons:`` list) says who is who: a calendar address, other addresses (aliases)
and a sync flag. :func:`normalize` applies it to an event from the source;
:func:`merge_seen` prepares that event for writing over what the target shows, so
that people's answers (accepted, declined, tentative) are kept while they stay on
the event, and — only with ``keep_external`` — so are guests added in the target.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace

from syncfw.model import Attendee, Event, Person

__all__ = [
    "Directory",
    "clean_email",
    "dump_attendees",
    "keep_answers",
    "load_attendees",
    "merge_seen",
    "normalize",
]


def clean_email(value: str) -> str:
    """The comparable form of an address: no ``mailto:``, no blanks, lower case."""
    value = value.strip().lower()
    return value[7:].lstrip() if value.startswith("mailto:") else value


class Directory:
    """Persons by every address they have (calendar address and aliases, any case)."""

    def __init__(self, persons: Iterable[Person] = ()) -> None:
        self.persons = tuple(persons)
        self._by_address: dict[str, Person] = {}
        for person in self.persons:
            for address in (person.email, *person.aliases):
                self._by_address.setdefault(clean_email(address), person)

    def __iter__(self) -> Iterator[Person]:
        return iter(self.persons)

    def __len__(self) -> int:
        return len(self.persons)

    def person(self, address: str) -> Person | None:
        return self._by_address.get(clean_email(address))

    def person_at(self, cleaned: str) -> Person | None:
        """Like :meth:`person`, for an address already passed through :func:`clean_email`."""
        return self._by_address.get(cleaned)

    def syncing(self) -> list[Person]:
        return [p for p in self.persons if p.sync]


def normalize(event: Event, directory: Directory) -> Event:
    """One attendee per person, under their calendar address; sync-off persons left out.

    Addresses compare case-insensitively without ``mailto:``; an alias becomes the
    person's calendar address; duplicates merge (an answer beats no answer; required
    beats optional). Unknown addresses (guests, rooms) stay, cleaned.
    """
    if event.overrides:  # a moved instance has attendees of its own
        overrides = tuple(normalize(o, directory) for o in event.overrides)
        if overrides != event.overrides:
            event = event.replace(overrides=overrides)
    if not event.attendees and event.organizer is None:
        return event
    merged: dict[str, Attendee] = {}
    for attendee in event.attendees:
        canonical = _canonical(attendee, directory)
        if canonical is None:
            continue
        key = canonical.email.lower()
        known = merged.get(key)
        merged[key] = canonical if known is None else _merge(known, canonical)
    organizer = event.organizer
    if organizer is not None:
        organizer = _canonical(organizer, directory, keep_sync_off=True)
    attendees = tuple(merged.values())
    if attendees == event.attendees and organizer == event.organizer:
        return event
    return event.replace(attendees=attendees, organizer=organizer)


def _canonical(
    attendee: Attendee, directory: Directory, *, keep_sync_off: bool = False
) -> Attendee | None:
    email = clean_email(attendee.email)
    person = directory.person_at(email)
    if person is None:
        return attendee if email == attendee.email else replace(attendee, email=email)
    if not person.sync and not keep_sync_off:
        return None
    if attendee.email == person.email and attendee.name == (person.name or attendee.name):
        return attendee
    return replace(attendee, email=person.email, name=person.name or attendee.name)


def _merge(a: Attendee, b: Attendee) -> Attendee:
    response = a.response if a.response != "needs-action" else b.response
    return replace(a, response=response, optional=a.optional and b.optional, name=a.name or b.name)


def merge_seen(
    event: Event,
    seen: tuple[Attendee, ...],
    directory: Directory,
    *,
    keep_external: bool,
    source: tuple[Attendee, ...] = (),
) -> Event:
    """The event to write over a target that shows ``seen`` attendees.

    Answers recorded in the target win for everyone who stays on the event. With
    ``keep_external``, attendees the target has that are neither on the event nor
    persons of the directory (guests someone invited there) are kept too. A sync-off
    person the target shows stays while ``source`` (the attendees of the event as its
    own side shows them, two-sided pairs) lists them too: :func:`normalize` left them out
    of the event so that syncfw never invites them, not to take them off the target.
    """
    if not seen:
        return event

    def who(address: str) -> str:  # a person under any of their addresses is one person
        cleaned = clean_email(address)
        person = directory.person_at(cleaned)
        return person.email.lower() if person else cleaned

    answers = {who(a.email): a.response for a in seen}
    attendees = []
    for a in event.attendees:
        answer = answers.get(who(a.email), a.response)
        attendees.append(a if answer == a.response else replace(a, response=answer))
    present = {who(a.email) for a in attendees}
    if keep_external:
        for guest in seen:
            email = clean_email(guest.email)
            if email not in present and directory.person_at(email) is None:
                present.add(email)
                attendees.append(replace(guest, email=email))
    listed = {who(a.email) for a in source} - present
    for attendee in seen if listed else ():
        person = directory.person(attendee.email)
        if person is not None and not person.sync and who(attendee.email) in listed:
            listed.discard(who(attendee.email))
            attendees.append(attendee)
    result = tuple(attendees)
    return event if result == event.attendees else event.replace(attendees=result)


def keep_answers(event: Event, seen: tuple[Attendee, ...]) -> Event:
    """``event`` with the answers ``seen`` records for its attendees, matched by address.

    For writing ``event`` over a side that shows ``seen`` when the pair has no person
    directory at hand for it: a pull into the source keeps the answers given there.
    """
    answers = {clean_email(a.email): a.response for a in seen}
    kept = []
    for a in event.attendees:
        answer = answers.get(clean_email(a.email), a.response)
        kept.append(a if answer == a.response else replace(a, response=answer))
    result = tuple(kept)
    return event if result == event.attendees else event.replace(attendees=result)


def dump_attendees(attendees: tuple[Attendee, ...]) -> str | None:
    """The compact JSON the state keeps of what a target showed (None for none)."""
    if not attendees:
        return None
    return json.dumps(
        [[a.email, a.name, a.kind, a.response, a.optional] for a in attendees],
        separators=(",", ":"),
    )


def load_attendees(data: str | None) -> tuple[Attendee, ...]:
    if not data:
        return ()
    return tuple(Attendee(e, n, k, r, o) for e, n, k, r, o in json.loads(data))
