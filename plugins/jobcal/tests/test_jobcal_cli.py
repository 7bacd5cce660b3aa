"""``syncfw jobcal ...`` through click's CliRunner: what people type, what they see."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner, Result

from syncfw.hooks.manager import Plugins
from syncfw_jobcal import JobCalendar
from syncfw_jobcal.cli import jobcal

BERLIN = ZoneInfo("Europe/Berlin")


Invoke = Callable[..., Result]


@pytest.fixture
def run(db_url: str) -> Invoke:
    runner = CliRunner(env={"COLUMNS": "200", "TZ": "Europe/Berlin"})

    def invoke(*args: str, url: str | None = db_url) -> Result:
        return runner.invoke(jobcal, [*(["--url", url] if url else []), *args])

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def test_init_demo_seeds_once(run: Invoke, db_url: str) -> None:
    first = ok(run("init", "--demo", "--today", "2026-11-23"))
    assert "created schema v1" in first and "added demo data:" in first
    count = len(JobCalendar.open(db_url).appointments())
    second = ok(run("init", "--demo", "--today", "2026-11-30"))
    assert "up to date" in second and "demo data not added" in second
    assert len(JobCalendar.open(db_url).appointments()) == count
    listing = ok(run("list"))
    assert f"{count} appointments" in listing and "Team meeting" in listing
    assert "Tom Richter (no sync)" in listing


def test_add_edit_move_delete_list(run: Invoke, db_url: str) -> None:
    ok(run("init"))
    ok(run("persons", "add", "Ada Lovelace", "ada@example.com", "--alias", "countess@example.com"))
    ok(run("persons", "add", "Bob Builder", "bob@example.com", "--no-sync"))
    ok(run("resources", "add", "Van"))
    uid = ok(
        run(
            "add",
            "Boiler repair",
            "--start",
            "2026-12-01T09:00",
            "--duration",
            "1h30m",
            "--person",
            "countess@example.com",
            "--resource",
            "van",
            "--location",
            "Elm St 12",
        )
    ).strip()
    cal = JobCalendar.open(db_url)
    appt = cal.appointment(uid)
    nine = datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    assert (appt.start, appt.end, appt.timezone) == (
        nine,
        nine + timedelta(minutes=90),
        "Europe/Berlin",
    )
    assert [a.person.name for a in appt.persons] == ["Ada Lovelace"]
    assert [r.name for r in appt.resources] == ["Van"] and appt.location == "Elm St 12"

    ok(run("edit", uid, "--title", "Boiler repair (urgent)", "--person", "bob@example.com"))
    ok(run("move", uid, "--start", "2026-12-02T14:00+01:00"))
    appt = cal.appointment(uid)
    two = datetime(2026, 12, 2, 14, tzinfo=BERLIN)
    assert (appt.title, appt.start, appt.end) == (
        "Boiler repair (urgent)",
        two,
        two + timedelta(minutes=90),
    )
    assert [a.person.name for a in appt.persons] == ["Bob Builder"]
    assert appt.version == 3

    outing = ok(
        run("add", "Company outing", "--all-day", "--start", "2026-12-04", "--type", "internal")
    )
    day = cal.appointment(outing.strip())
    assert (day.start, day.end, day.type) == (date(2026, 12, 4), date(2026, 12, 5), "internal")

    ok(run("delete", uid))
    listing = ok(run("list"))
    assert "Company outing" in listing and "Boiler repair" not in listing
    assert "Boiler repair (urgent)" in ok(run("list", "--all")) and "(deleted)" in ok(
        run("list", "--all")
    )


def test_times_without_offset_use_tz_or_the_local_zone(run: Invoke, db_url: str) -> None:
    ok(run("init"))
    local = ok(run("add", "A", "--start", "2026-12-01T09:00")).strip()
    tokyo = ok(run("add", "B", "--start", "2026-12-01T09:00", "--tz", "Asia/Tokyo")).strip()
    cal = JobCalendar.open(db_url)
    assert cal.appointment(local).start == datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    assert cal.appointment(tokyo).timezone == "Asia/Tokyo"
    assert cal.appointment(tokyo).start == datetime(2026, 12, 1, 9, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_persons_edit(run: Invoke, db_url: str) -> None:
    ok(run("init"))
    ok(run("persons", "add", "Ada", "ada@example.com"))
    out = ok(
        run(
            "persons",
            "edit",
            "ada@example.com",
            "--name",
            "Ada King",
            "--no-sync",
            "--alias",
            "a@x.example",
        )
    )
    assert "Ada King <ada@example.com> (also a@x.example), not synced" in out
    (person,) = JobCalendar.open(db_url).persons()
    assert (person.name, person.aliases, person.sync) == ("Ada King", ("a@x.example",), False)
    assert "a@x.example" in ok(run("persons"))


START = ("--start", "2026-12-01T09:00")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "X", "--start", "tomorrow"), "not an ISO 8601 time"),
        (("add", "X", "--start", "2026-12-01"), "no time of day"),
        (("add", "X", "--all-day", "--start", "2026-12-01T09:00"), "not a date"),
        (("add", "X", *START, "--end", "2026-12-01T10:00", "--duration", "1h"), "not both"),
        (("add", "X", *START, "--end", "2026-12-01T08:00"), "before the start"),
        (("add", "X", *START, "--duration", "soon"), "not a duration"),
        (("add", "X", *START, "--person", "nobody@example.com"), "no person with email"),
        (("add", "X", *START, "--resource", "Truck"), "no resource named"),
        (("add", "X", *START, "--rrule", "FREQ=NEVER"), "invalid RRULE"),
        (("add", "X", *START, "--tz", "Mars/Base"), "unknown time zone"),
        (("edit", "no-such-uid", "--title", "x"), "no appointment with uid 'no-such-uid'"),
        (("move", "no-such-uid", *START), "no appointment with uid"),
        (("delete", "no-such-uid"), "no appointment with uid"),
        (("persons", "add", "X", "not-an-email"), "not an email address"),
        (("persons", "edit", "nobody@example.com", "--name", "Y"), "no person with email"),
        (("persons", "edit", "nobody@example.com"), "nothing to change"),
    ],
)
def test_bad_input_exits_2_with_a_message(run: Invoke, args: tuple[str, ...], message: str) -> None:
    ok(run("init"))
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_the_database_must_be_named_and_exist(run: Invoke, tmp_path: Path) -> None:
    result = run("list", url=None)
    assert result.exit_code == 2 and "--url URL or --profile PROFILE" in result.output
    missing = tmp_path / "typo.db"
    result = run("list", url=f"sqlite:///{missing}")
    assert result.exit_code == 2 and "syncfw jobcal ... init" in result.output
    assert not missing.exists(), "a typo must not leave an empty database behind"


def test_a_password_never_shows_on_the_command_line(run: Invoke) -> None:
    result = run("list", url="postgresql+nosuchdriver://ada:pa55-w0rd@127.0.0.1:1/jobs")
    assert (
        result.exit_code == 1
        and "postgresql+nosuchdriver://ada:***@127.0.0.1:1/jobs" in result.output
    )
    assert "pa55-w0rd" not in result.output


PROFILE = """\
    version: 1
    calendars:
      jobs: {driver: jobcal, url: "sqlite:///data/jobcal.db"}
      %s
      master: {driver: ics, path: out/master.ics}
    pairs:
      - {name: jobs-to-master, source: jobs, target: master}
"""


def write_profile(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "profiles" / "demo.yaml"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(PROFILE % extra))
    return path


def test_profile_names_the_database_relative_to_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = write_profile(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(jobcal, ["--profile", str(profile), "init", "--demo"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "profiles" / "data" / "jobcal.db").exists()
    again = CliRunner().invoke(jobcal, ["--profile", str(profile), "init", "--demo"])
    assert "demo data not added" in again.output


def test_profile_with_several_jobcal_calendars_needs_calendar(tmp_path: Path) -> None:
    profile = str(write_profile(tmp_path, 'other: {driver: jobcal, url: "sqlite:///other.db"}'))
    result = CliRunner().invoke(jobcal, ["--profile", profile, "init"])
    assert result.exit_code == 2 and "several jobcal calendars (jobs, other)" in result.output
    result = CliRunner().invoke(jobcal, ["--profile", profile, "--calendar", "other", "init"])
    assert result.exit_code == 0 and (tmp_path / "profiles" / "other.db").exists()
    result = CliRunner().invoke(jobcal, ["--profile", profile, "--calendar", "master", "init"])
    assert result.exit_code == 2 and "not a jobcal calendar" in result.output
    result = CliRunner().invoke(jobcal, ["--profile", str(tmp_path / "nope.yaml"), "init"])
    assert result.exit_code == 2 and "no such file" in result.output


def test_the_plugin_adds_the_command_group() -> None:
    root = click.Group("syncfw")
    Plugins(autoload=True).add_commands(root)
    assert root.commands["jobcal"] is jobcal
