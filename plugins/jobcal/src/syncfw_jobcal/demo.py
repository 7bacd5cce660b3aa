"""Demo data: a small trade business's next three weeks, the same for the same start date.

Used by ``syncfw jobcal init --demo`` (and so by ``make run``). Everything derives from a
random generator seeded with the date, uids included, so two runs on the same day produce
the same calendar and a sync of it can be compared run to run.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .store import JobCalendar

__all__ = ["DEMO_TIMEZONE", "seed"]

DEMO_TIMEZONE = "Europe/Berlin"
DAYS = 21

PERSONS = (  # name, email, aliases, sync
    ("Anna Becker", "anna.becker@example.com", ("a.becker@example.com",), True),
    ("Jonas Weber", "jonas.weber@example.com", (), True),
    ("Lena Hoffmann", "lena.hoffmann@example.com", (), True),
    ("Tom Richter", "tom.richter@example.com", (), False),  # keeps his calendar to himself
    ("Sara Klein", "sara.klein@example.com", (), True),
)
RESOURCES = (("Meeting room", "meeting-room@example.com"), ("Service van 2", None))
TECHNICIANS = ("jonas.weber@example.com", "lena.hoffmann@example.com", "tom.richter@example.com")

JOBS = (  # title, duration in hours, needs the van
    ("Heating maintenance", 2, True),
    ("Boiler repair", 3, True),
    ("Bathroom renovation: site visit", 1, False),
    ("Kitchen installation", 6, True),
    ("Quote appointment", 1, False),
    ("Annual gas safety inspection", 2, True),
    ("Underfloor heating: handover", 2, False),
    ("Radiator replacement", 4, True),
)
CUSTOMERS = (
    ("Fischer family", "Lindenstraße 12, Hamburg"),
    ("Bakery Wolf", "Marktplatz 3, Hamburg"),
    ("Neumann", "Elbchaussee 88, Hamburg"),
    ("Office park Nord", "Nordring 5, Norderstedt"),
    ("Schmidt & Partner", "Hafenweg 21, Hamburg"),
    ("Meyer", "Am Deich 7, Wedel"),
    ("Kindergarten Sonnenschein", "Parkallee 40, Hamburg"),
)


def seed(cal: JobCalendar, today: date) -> int:
    """Add the demo persons, resources and appointments; returns the appointment count.

    The caller holds the transaction and has checked that there are no appointments.
    """
    rng = random.Random(f"syncfw-jobcal-demo-{today.isoformat()}")
    known = {p.email.lower() for p in cal.persons()}
    for name, email, aliases, sync in PERSONS:
        if email not in known:
            cal.add_person(name, email, aliases=aliases, sync=sync)
    have = {r.name for r in cal.resources()}
    for resource, mailbox in RESOURCES:
        if resource not in have:
            cal.add_resource(resource, email=mailbox)

    tz = ZoneInfo(DEMO_TIMEZONE)

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=tz)

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    count = 0
    monday = today + timedelta(days=-today.weekday() % 7)
    cal.add_appointment(
        "Team meeting",
        at(monday, 8),
        at(monday, 9),
        timezone=DEMO_TIMEZONE,
        type="internal",
        description="Weekly planning: jobs, vans, material orders.",
        location="Meeting room",
        rrule="FREQ=WEEKLY;BYDAY=MO",
        persons=[p[1] for p in PERSONS],
        resources=["Meeting room"],
        uid=uid(),
    )
    count += 1
    outing = today + timedelta(days=(4 - today.weekday()) % 7 + 7)  # the Friday after next
    cal.add_appointment(
        "Company outing",
        outing,
        outing + timedelta(days=1),
        timezone=DEMO_TIMEZONE,
        type="internal",
        description="Boat trip on the Elbe, then dinner. The office is closed.",
        location="Landungsbrücken, Hamburg",
        persons=[p[1] for p in PERSONS],
        uid=uid(),
    )
    count += 1
    for offset in range(DAYS):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5 or day == outing:
            continue
        hour = 8 if day.weekday() else 10  # Mondays start after the team meeting
        for _ in range(rng.randint(1, 3)):
            title, hours, van = rng.choice(JOBS)
            customer, address = rng.choice(CUSTOMERS)
            if hour + hours > 18:
                break
            technicians = rng.sample(TECHNICIANS, k=2 if hours >= 4 else 1)
            cal.add_appointment(
                f"{title} ({customer})",
                at(day, hour),
                at(day, hour + hours),
                timezone=DEMO_TIMEZONE,
                type="appointment",
                description=f"Customer: {customer}. Please bring the service report.",
                location=address,
                persons=["anna.becker@example.com", *technicians] if hours >= 6 else technicians,
                resources=["Service van 2"] if van else [],
                uid=uid(),
            )
            count += 1
            hour += hours + 1  # travel time
    return count
