"""``syncfw jobcal ...``: look after a job calendar from the command line.

The database is named by ``--url`` (or ``$SYNCFW_JOBCAL_URL``), or by ``--profile`` and
optionally ``--calendar``: then the URL is the one the profile's jobcal calendar uses,
resolved against the profile's folder exactly as a sync would. Bad input exits with 2 and
a message, never a traceback; an unusable database exits with 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from syncfw.errors import NotFound, PreconditionFailed, ProfileError

from .cli_input import InputError, parse_duration, parse_moment, pick_zone
from .cli_persons import persons_group, resources_group
from .database import sqlite_file
from .records import Appointment, JobcalError, StoreUnavailable
from .store import JobCalendar

__all__ = ["jobcal"]

_KEY = "syncfw_jobcal.target"


@dataclass
class Target:
    """Which database the command works on; opened on first use, closed with the command."""

    url: str | None
    profile: Path | None
    calendar: str | None
    _cal: JobCalendar | None = field(default=None, repr=False)

    def open(self, ctx: click.Context) -> JobCalendar:
        if self._cal is None:
            self._cal = JobCalendar.open(self._url())
            ctx.call_on_close(self._cal.close)
        return self._cal

    def _url(self) -> str:
        if self.url and self.profile:
            raise click.UsageError("give --url or --profile, not both")
        if self.url:
            if self.calendar:
                raise click.UsageError("--calendar goes with --profile")
            return self.url
        if self.profile is None:
            raise click.UsageError("say which job calendar: --url URL or --profile PROFILE")
        return _url_from_profile(self.profile, self.calendar)


def _url_from_profile(path: Path, calendar: str | None) -> str:
    from syncfw.commands import load_profile

    try:
        profile = load_profile(path)
    except ProfileError as exc:
        raise InputError(str(exc)) from None
    ours = {n: c for n, c in profile.calendars.items() if c.driver == "jobcal"}
    if calendar is not None:
        if calendar not in profile.calendars:
            names = ", ".join(profile.calendars) or "none"
            raise InputError(f"{path}: no calendar {calendar!r} (calendars: {names})")
        if calendar not in ours:
            raise InputError(f"{path}: calendar {calendar!r} is not a jobcal calendar")
        chosen = ours[calendar]
    elif len(ours) == 1:
        chosen = next(iter(ours.values()))
    elif not ours:
        raise InputError(f"{path}: no calendar uses the jobcal driver")
    else:
        names = ", ".join(sorted(ours))
        raise InputError(f"{path}: several jobcal calendars ({names}); pick one with --calendar")
    return str(chosen.options.url)  # type: ignore[attr-defined]


def store(ctx: click.Context) -> JobCalendar:
    """The job calendar of the current command; it must have been created with ``init``."""
    target: Target = ctx.meta[_KEY]
    cal = target.open(ctx)
    path = sqlite_file(cal.engine.url)
    if path is not None and not path.exists():  # connecting would leave an empty file behind
        raise InputError(f"no job calendar at {path}; create it with `syncfw jobcal ... init`")
    cal.check_schema(create=False)
    return cal


class JobcalGroup(click.Group):
    """Turns the store's errors into messages and exit codes instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NotFound as exc:
            message = f"no appointment with uid {exc.key!r}; see `syncfw jobcal list`"
            raise InputError(message) from None
        except PreconditionFailed as exc:
            message = f"{exc.key!r} was changed meanwhile; run the command again"
            raise click.ClickException(message) from None
        except StoreUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        except JobcalError as exc:
            raise InputError(str(exc)) from None


@click.group("jobcal", cls=JobcalGroup)
@click.option("--url", envvar="SYNCFW_JOBCAL_URL", help="SQLAlchemy URL of the job calendar.")
@click.option(
    "--profile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Use the jobcal calendar of this profile.",
)
@click.option("--calendar", metavar="NAME", help="Which jobcal calendar of the profile.")
@click.pass_context
def jobcal(ctx: click.Context, url: str | None, profile: Path | None, calendar: str | None) -> None:
    """The job calendar: appointments for persons and resources, in SQL."""
    ctx.meta[_KEY] = Target(url, profile, calendar)


@jobcal.command()
@click.option("--demo", is_flag=True, help="Add demo data if there are no appointments yet.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="First day of the demo data.")
@click.pass_context
def init(ctx: click.Context, demo: bool, today: datetime | None) -> None:
    """Create the database (or bring its schema up to date)."""
    cal = ctx.meta[_KEY].open(ctx)
    click.echo(f"{cal.url}: {cal.init()}")
    if not demo:
        return
    added = cal.seed_demo(today.date() if today else date.today())
    if added:
        click.echo(
            f"added demo data: {added} appointments, "
            f"{len(cal.persons())} persons, {len(cal.resources())} resources"
        )
    else:
        click.echo("demo data not added: the calendar already has appointments")


_time_help = "ISO 8601, e.g. 2026-12-01T09:00 (a date with --all-day)"


@jobcal.command()
@click.argument("title")
@click.option("--start", required=True, help=_time_help)
@click.option("--end", help=f"{_time_help}; or use --duration")
@click.option("--duration", help="e.g. 90m, 1h30m, 2d (default 1h, or 1d for --all-day)")
@click.option("--all-day", is_flag=True, help="Dates instead of times; --end is exclusive.")
@click.option("--type", "type_", default="appointment", show_default=True)
@click.option("--person", "persons", multiple=True, metavar="EMAIL", help="Repeatable.")
@click.option("--resource", "resources", multiple=True, metavar="NAME", help="Repeatable.")
@click.option("--rrule", help="Recurrence, e.g. FREQ=WEEKLY;BYDAY=MO")
@click.option("--tz", help="Time zone of times without an offset (default: local).")
@click.option("--description", default="")
@click.option("--location", default="")
@click.pass_context
def add(
    ctx: click.Context,
    title: str,
    start: str,
    end: str | None,
    duration: str | None,
    all_day: bool,
    type_: str,
    persons: tuple[str, ...],
    resources: tuple[str, ...],
    rrule: str | None,
    tz: str | None,
    description: str,
    location: str,
) -> None:
    """Add an appointment; prints its uid."""
    if end and duration:
        raise click.UsageError("give --end or --duration, not both")
    zone, zone_name = pick_zone(tz)
    first = parse_moment(start, "--start", zone, all_day=all_day)
    if end:
        last = parse_moment(end, "--end", zone, all_day=all_day)
    else:
        default = timedelta(days=1) if all_day else timedelta(hours=1)
        last = first + (parse_duration(duration, all_day=all_day) if duration else default)
    uid = store(ctx).add_appointment(
        title,
        first,
        last,
        timezone=zone_name,
        type=type_ or None,
        description=description,
        location=location,
        rrule=rrule,
        persons=persons,
        resources=resources,
    )
    click.echo(uid)


@jobcal.command()
@click.argument("uid")
@click.option("--title")
@click.option("--start", help=f"{_time_help}; without --end the duration stays")
@click.option("--end", help=_time_help)
@click.option("--type", "type_")
@click.option("--description")
@click.option("--location")
@click.option("--rrule", help="New recurrence rule; --no-rrule removes it.")
@click.option("--no-rrule", is_flag=True)
@click.option("--tz", help="Time zone of the appointment and of times without an offset.")
@click.option("--person", "persons", multiple=True, metavar="EMAIL", help="Replaces the persons.")
@click.option("--resource", "resources", multiple=True, metavar="NAME", help="Replaces them.")
@click.pass_context
def edit(
    ctx: click.Context,
    uid: str,
    title: str | None,
    start: str | None,
    end: str | None,
    type_: str | None,
    description: str | None,
    location: str | None,
    rrule: str | None,
    no_rrule: bool,
    tz: str | None,
    persons: tuple[str, ...],
    resources: tuple[str, ...],
) -> None:
    """Change an appointment's fields."""
    cal = store(ctx)
    current = cal.appointment(uid)
    given = {"title": title, "type": type_, "description": description, "location": location}
    fields: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if rrule is not None and no_rrule:
        raise click.UsageError("give --rrule or --no-rrule, not both")
    if rrule is not None or no_rrule:
        fields["rrule"] = rrule or None
    if tz:
        fields["timezone"] = pick_zone(tz)[1]
    if start or end:
        fields["start"], fields["end"] = _new_span(current, start, end, tz)
    if persons:
        fields["persons"] = list(persons)
    if resources:
        fields["resources"] = list(resources)
    if not fields:
        raise click.UsageError("nothing to change; see `syncfw jobcal edit --help`")
    done = cal.edit_appointment(uid, if_version=current.version, **fields)
    click.echo(f"{uid}: {_when(done)} {done.title}")


@jobcal.command()
@click.argument("uid")
@click.option("--start", required=True, help=f"{_time_help}; without --end the duration stays")
@click.option("--end", help=_time_help)
@click.option("--tz", help="Zone of times without an offset (default: the appointment's).")
@click.pass_context
def move(ctx: click.Context, uid: str, start: str, end: str | None, tz: str | None) -> None:
    """Move an appointment to another time."""
    cal = store(ctx)
    current = cal.appointment(uid)
    first, last = _new_span(current, start, end, tz)
    done = cal.move_appointment(uid, first, last)
    click.echo(f"{uid}: {_when(done)} {done.title}")


@jobcal.command()
@click.argument("uid")
@click.pass_context
def delete(ctx: click.Context, uid: str) -> None:
    """Delete an appointment (it stays in the database, marked deleted, for the sync)."""
    if not store(ctx).delete_appointment(uid):
        raise InputError(f"no appointment with uid {uid!r} (or it is already deleted)")
    click.echo(f"{uid}: deleted")


@jobcal.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include deleted appointments.")
@click.pass_context
def list_(ctx: click.Context, show_all: bool) -> None:
    """List the appointments."""
    found = store(ctx).appointments(include_deleted=show_all)
    table = Table(title=f"{len(found)} appointments")
    for name in ("uid", "when", "title", "type", "persons", "resources"):
        table.add_column(name, no_wrap=name == "uid", overflow="fold")
    for appt in found:
        title = f"[strike]{appt.title}[/] (deleted)" if appt.deleted else appt.title
        people = ", ".join(
            a.person.name + ("" if a.person.sync else " (no sync)") for a in appt.persons
        )
        table.add_row(
            appt.uid,
            _when(appt),
            title,
            appt.type or "",
            people,
            ", ".join(r.name for r in appt.resources),
        )
    Console(soft_wrap=False).print(table)


def _new_span(
    current: Appointment, start: str | None, end: str | None, tz: str | None
) -> tuple[datetime | date, datetime | date]:
    """The new start and end from --start/--end, read like the appointment is (dates or
    times); a missing one keeps the duration."""
    zone, _ = pick_zone(tz or current.timezone)
    duration = current.end - current.start  # type: ignore[operator]
    first = parse_moment(start, "--start", zone, all_day=current.all_day) if start else None
    last = parse_moment(end, "--end", zone, all_day=current.all_day) if end else None
    if first is None:
        assert last is not None
        return last - duration, last  # type: ignore[return-value]
    return first, last if last is not None else first + duration  # type: ignore[return-value]


def _when(appt: Appointment) -> str:
    if isinstance(appt.start, datetime) and isinstance(appt.end, datetime):
        same_day = appt.start.date() == appt.end.date()
        until = appt.end.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M")
        text = f"{appt.start:%Y-%m-%d %H:%M}-{until} {appt.timezone or 'UTC'}"
    else:
        days = (appt.end - appt.start).days  # type: ignore[operator]
        text = f"{appt.start} (all day)" if days == 1 else f"{appt.start} ({days} days)"
    return f"{text}, {appt.rrule}" if appt.rrule else text


jobcal.add_command(persons_group)
jobcal.add_command(resources_group)
