"""Profiles: every documented key is read, with its defaults, variables and person templates.

The errors a bad profile gives (each pointing at the right line) are in test_profile_errors.py,
which imports the probe drivers, fixtures and sample profiles from here.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import AfterValidator, BaseModel, ConfigDict

from syncfw.config.loader import load_profile
from syncfw.config.models import (
    PairConfig,
    Profile,
    fill_placeholders,
    person_calendar_options,
)
from syncfw.errors import ProfileError
from syncfw.hooks.manager import Plugins
from syncfw.markers import hookimpl
from syncfw.model import Person
from syncfw.sdk.driver import Driver, DriverOptions, resolve_path


class Auth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    token: str


class ProbeDriver(Driver):
    """A driver with the option kinds real drivers use: a path, a choice, a nested model."""

    name = "probe"

    class Options(DriverOptions):
        path: Annotated[Path, AfterValidator(resolve_path)]
        create: bool = True
        mode: Literal["file", "dir"] = "file"
        password: str = ""
        auth: Auth | None = None


class PlainDriver(Driver):
    name = "plain"

    class Options(DriverOptions):
        label: str = "default"


class ProbePlugin:
    @hookimpl
    def syncfw_register_drivers(self, register):
        register(ProbeDriver)
        register(PlainDriver)


@pytest.fixture
def plugins() -> Plugins:
    # The probe drivers have names of their own, so they sit beside the builtins without clashing.
    return Plugins(autoload=False, extra=[ProbePlugin()])


@pytest.fixture
def load(tmp_path: Path, plugins: Plugins):
    def load(text: str, name: str = "profile.yaml") -> Profile:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return load_profile(path, plugins)

    return load


def error_of(load, text: str) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        load(text)
    return info.value


GOOD = """
version: 1
calendars:
  jobs: {driver: plain, label: jobs}
  master: {driver: probe, path: out/master.ics}
persons: {from: jobs}
pairs:
  - name: jobs-to-master
    source: jobs
    target: master
"""


def test_a_minimal_profile_loads_with_every_default(load, tmp_path: Path) -> None:
    profile = load(GOOD)
    assert profile.path == tmp_path / "profile.yaml"
    assert profile.base_dir == tmp_path
    assert profile.version == 1
    assert profile.state_path == tmp_path / ".syncfw" / "profile.db"
    master = profile.calendars["master"]
    assert (master.name, master.driver, master.line) == ("master", "probe", 4)
    assert isinstance(master.options, ProbeDriver.Options)
    assert master.options.path == tmp_path / "out" / "master.ics"  # against the profile folder
    assert profile.calendars["jobs"].options.label == "jobs"
    assert profile.persons.source == "jobs" and profile.persons.persons == ()
    pair = profile.pair("jobs-to-master")
    assert isinstance(pair, PairConfig)
    assert (pair.source, pair.target, pair.line) == ("jobs", "master", 7)
    assert (pair.policy, pair.conflict) == ("master-push", "source-wins")
    assert (pair.window.past_days, pair.window.future_days) == (7, 90)
    assert (pair.recurrence.mode, pair.recurrence.horizon_days) == ("expand", 365)
    assert (pair.attendees.fan_out, pair.attendees.notify) == ("invite", "none")
    assert pair.attendees.keep_external is False
    assert pair.filters == [] and pair.transforms == [] and pair.interval_minutes == 15
    assert pair.attendees.calendar is None
    assert (pair.safety.max_delete_share, pair.safety.min_deletes) == (0.5, 10)


def test_every_key_is_read(load, tmp_path: Path) -> None:
    profile = load("""
        version: 1
        state: /var/lib/syncfw/state.db
        calendars:
          a: {driver: plain}
          b: {driver: probe, path: /srv/b.ics, create: false, mode: dir}
        persons:
          - {name: Ann, email: ann@example.com, aliases: [a@example.com], sync: false}
          - {name: Bob, email: bob@example.com}
        pairs:
          - name: two
            source: a
            target: b
            policy: master-push
            window: {past_days: 0, future_days: 30}
            recurrence: {mode: series, horizon_days: 30}
            attendees:
              fan_out: copy
              notify: external
              keep_external: true
              calendar: {driver: probe, path: "people/{local}.ics"}
            filters: [{type: [appointment]}, {category: work}]
            transforms: [busy-only, {prefix-title: "[Job] "}]
            interval_minutes: 5
            safety: {max_delete_share: 1, min_deletes: 0}
          - name: back
            source: b
            target: a
            policy: two-way
            conflict: newest-wins
    """)
    assert profile.state_path == Path("/var/lib/syncfw/state.db")
    b = profile.calendars["b"].options
    assert (b.path, b.create, b.mode) == (Path("/srv/b.ics"), False, "dir")
    assert profile.persons.source is None
    assert profile.persons.persons == (
        Person("Ann", "ann@example.com", ("a@example.com",), sync=False),
        Person("Bob", "bob@example.com"),
    )
    pair = profile.pairs[0]
    assert (pair.policy, pair.interval_minutes) == ("master-push", 5)
    assert (profile.pairs[1].policy, profile.pairs[1].conflict) == ("two-way", "newest-wins")
    assert (pair.window.past_days, pair.window.future_days) == (0, 30)
    assert (pair.recurrence.mode, pair.recurrence.horizon_days) == ("series", 30)
    assert (pair.attendees.fan_out, pair.attendees.notify) == ("copy", "external")
    assert pair.attendees.keep_external is True
    assert pair.attendees.calendar == {"driver": "probe", "path": "people/{local}.ics"}
    assert pair.filters == [{"type": ["appointment"]}, {"category": "work"}]
    assert pair.transforms == ["busy-only", {"prefix-title": "[Job] "}]
    assert (pair.safety.max_delete_share, pair.safety.min_deletes) == (1.0, 0)


def test_a_two_way_pair_refuses_what_it_cannot_undo(load) -> None:
    text = GOOD + "    policy: two-way\n    transforms: [busy-only]\n"
    text += "    attendees: {fan_out: copy, calendar: {driver: probe, path: 'p/{local}.ics'}}\n"
    errors = str(error_of(load, text))
    assert ":11: pairs[0].transforms: a two-way pair cannot have transforms" in errors
    assert ":12: pairs[0].attendees.fan_out: a two-way pair cannot fan out" in errors
    conflict = error_of(load, GOOD + "    conflict: target-wins\n")
    assert "pairs[0].conflict: a master-push pair has no conflicts to settle" in str(conflict)


def test_the_builtin_drivers_validate_their_options(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\ncalendars:\n  a: {driver: memory, name: jobs}\n"
        "  b: {driver: ics, path: out/b.ics, create: false}\n"
        "pairs: [{name: a-to-b, source: a, target: b}]\n"
    )
    profile = load_profile(path, Plugins(autoload=False))
    assert profile.calendars["a"].options.name == "jobs"
    assert profile.calendars["b"].options.path == tmp_path / "out" / "b.ics"
    assert profile.calendars["b"].options.create is False
    path.write_text(path.read_text().replace("create: false", "create: false, colour: red"))
    with pytest.raises(ProfileError, match=r"p.yaml:4: calendars.b.colour: unknown key 'colour'"):
        load_profile(path, Plugins(autoload=False))


def test_relative_state_counts_from_the_profile_folder(load, tmp_path: Path) -> None:
    profile = load("version: 1\nstate: data/s.db\ncalendars: {}\npairs: []\n")
    assert profile.state_path == tmp_path / "data" / "s.db"


def test_line_of_and_unknown_pair_names(load) -> None:
    profile = load(GOOD)
    assert profile.line_of("pairs", 0, "target") == 9
    assert profile.line_of("pairs", 0, "window", "past_days") == 7  # a default: the pair's line
    assert profile.line_of("nothing") is None
    with pytest.raises(ProfileError, match="no pair named 'nope'") as info:
        profile.pair("nope")
    assert info.value.hint == "pairs: jobs-to-master"


def test_x_keys_and_merge_keys_share_settings(load) -> None:
    profile = load(
        GOOD.replace("pairs:", "x-defaults: &defaults {interval_minutes: 5}\npairs:")
        + "    <<: *defaults\n    interval_minutes: 7\n"
        + "  - {<<: *defaults, name: b, source: master, target: jobs}\n"
    )
    assert [p.interval_minutes for p in profile.pairs] == [7, 5]


def test_env_interpolation(load, monkeypatch) -> None:
    monkeypatch.setenv("SYNCFW_T_DIR", "srv")
    monkeypatch.setenv("SYNCFW_T_NAME", "m")
    monkeypatch.setenv("SYNCFW_T_DAYS", "30")
    profile = load("""
        version: 1
        calendars:
          a: {driver: plain, label: "${SYNCFW_T_NAME}"}
          b: {driver: probe, path: "/${SYNCFW_T_DIR}/${SYNCFW_T_NAME}.ics", password: "$${X}y"}
        pairs:
          - {name: p, source: a, target: b, window: {future_days: "${SYNCFW_T_DAYS}"}}
    """)
    assert profile.calendars["a"].options.label == "m"
    assert profile.calendars["b"].options.path == Path("/srv/m.ics")
    assert profile.calendars["b"].options.password == "${X}y"  # $${ writes a literal ${
    assert profile.pairs[0].window.future_days == 30


def test_policies_fall_back_to_master_push_until_some_are_registered(
    tmp_path: Path, plugins: Plugins
) -> None:
    class NoPolicies:
        drivers = plugins.drivers

        def policies(self):
            return {}

    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(GOOD) + "    policy: master-push\n")
    assert load_profile(path, NoPolicies()).pairs[0].policy == "master-push"
    path.write_text(textwrap.dedent(GOOD) + "    policy: two-way\n")
    with pytest.raises(ProfileError, match="unknown policy 'two-way'") as info:
        load_profile(path, NoPolicies())
    assert info.value.hint == "policies: master-push"


@pytest.mark.parametrize(("value", "minutes"), [("0.5", 0.5), ("0.05", 0.05), ("60", 60.0)])
def test_interval_minutes_may_be_a_fraction(load, value, minutes) -> None:
    assert load(GOOD + f"    interval_minutes: {value}\n").pairs[0].interval_minutes == minutes


COPY = GOOD + "    attendees:\n      fan_out: copy\n"


def test_person_calendar_fills_the_template_per_person(load, tmp_path: Path) -> None:
    profile = load(
        COPY + "      calendar:\n        driver: probe\n        path: 'people/{local}/{name}.ics'\n"
        "        auth: {token: '{email}'}\n"
    )
    pair = profile.pairs[0]
    ann = Person("Ann / Example", "ann@example.com")
    driver, options = pair.person_calendar(ann, profile.base_dir)
    assert driver == "probe" and isinstance(options, ProbeDriver.Options)
    # Relative to the profile; a "/" in a name cannot make another folder.
    assert options.path == tmp_path / "people" / "ann" / "Ann - Example.ics"
    assert options.auth == Auth(token="ann@example.com")
    assert person_calendar_options(profile, pair, ann) == (driver, options)
    # A copy made by the engine (model_copy) keeps what the load found out.
    assert pair.model_copy(update={"name": "x"}).person_calendar(ann, tmp_path) == (driver, options)


def test_fill_placeholders_leaves_other_braces_alone() -> None:
    person = Person("Ann", "ann@example.com")
    template = {"a": "{email}", "b": ["{name}-{local}", 3], "c": "{other} {{x}} {"}
    assert fill_placeholders(template, person) == {
        "a": "ann@example.com",
        "b": ["Ann-ann", 3],
        "c": "{other} {{x}} {",
    }
