"""Job-calendar appointments for the service benches (bench_caldav, bench_outlook)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncfw_jobcal.store import JobCalendar

__all__ = ["change_ten", "fill"]


def fill(jobs: JobCalendar, count: int) -> list[str]:
    """``count`` one-hour appointments over the next ~100 days, each with two invitees."""
    people = [f"person{i}@example.com" for i in range(3)]
    with jobs.transaction():
        for i, email in enumerate(people):
            jobs.add_person(f"Person {i}", email)
        base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
        return [
            jobs.add_appointment(
                f"Job {i}",
                base + timedelta(hours=i % 2400),
                base + timedelta(hours=i % 2400 + 1),
                location="Site",
                persons=[people[i % 3], people[(i + 1) % 3]],
            )
            for i in range(count)
        ]


def change_ten(jobs: JobCalendar, uids: list[str]) -> None:
    """4 edits, 3 moves, 3 deletes, spread over the calendar."""
    step = max(1, len(uids) // 10)
    picked = uids[::step][:10]
    for uid in picked[:4]:
        jobs.edit_appointment(uid, title="Edited in the job calendar")
    for uid in picked[4:7]:
        start = jobs.appointment(uid).start
        assert isinstance(start, datetime)
        jobs.move_appointment(uid, start + timedelta(hours=3))
    for uid in picked[7:]:
        jobs.delete_appointment(uid)
