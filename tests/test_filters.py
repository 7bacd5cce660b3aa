"""Filters and transforms: the builtins, plugin ones, and their errors in profiles."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncfw.config.loader import load_profile
from syncfw.errors import ProfileError, ProfileErrors, SyncfwError
from syncfw.hooks.filters import (
    BuildError,
    build_filter,
    build_filters,
    build_transform,
    build_transforms,
)
from syncfw.hooks.manager import Plugins
from syncfw.markers import hookimpl
from syncfw.model import Attendee, Event

START = datetime(2030, 5, 6, 9, tzinfo=UTC)


def event(**fields: Any) -> Event:
    base: dict[str, Any] = {
        "uid": "e1",
        "title": "Job 42: boiler",
        "start": START,
        "end": START + timedelta(hours=1),
    }
    return Event(**(base | fields))


@pytest.fixture
def plugins() -> Plugins:
    return Plugins(autoload=False)


def keeps(plugins: Plugins, config: Any, ev: Event) -> bool:
    return build_filter(config, plugins.filters())(ev)


# -- builtin filters ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["type", "category"])
def test_type_and_category_match_any_category_in_any_case(plugins: Plugins, name: str) -> None:
    appointment = event(categories=("Appointment", "blue"))
    assert keeps(plugins, {name: ["appointment"]}, appointment)
    assert keeps(plugins, {name: "APPOINTMENT"}, appointment)  # a single value is fine
    assert keeps(plugins, {name: ["holiday", "blue"]}, appointment)
    assert not keeps(plugins, {name: ["holiday"]}, appointment)
    assert not keeps(plugins, {name: ["appointment"]}, event())  # no categories at all


@pytest.mark.parametrize("value", [[], 3, [1], {"a": 1}, None])
def test_type_needs_texts(plugins: Plugins, value: Any) -> None:
    with pytest.raises(BuildError, match="expected categories: a text or a list of texts"):
        build_filter({"type": value}, plugins.filters())


def test_title_and_exclude_title_are_regexes(plugins: Plugins) -> None:
    job, lunch = event(), event(title="Lunch with Job")
    assert keeps(plugins, {"title": "^Job"}, job)
    assert not keeps(plugins, {"title": "^Job"}, lunch)
    assert keeps(plugins, {"title": "boiler"}, job)  # search, not match
    assert keeps(plugins, {"title": "(?i)^lunch"}, lunch)
    assert not keeps(plugins, {"exclude_title": "Lunch"}, lunch)
    assert keeps(plugins, {"exclude_title": "Lunch"}, job)


@pytest.mark.parametrize("name", ["title", "exclude_title"])
def test_a_bad_regex_says_what_is_wrong(plugins: Plugins, name: str) -> None:
    with pytest.raises(BuildError, match=r"invalid regular expression '\(Job': missing \)"):
        build_filter({name: "(Job"}, plugins.filters())
    with pytest.raises(BuildError, match="expected a regular expression as text, got int"):
        build_filter({name: 3}, plugins.filters())


def test_person_matches_attendees_and_organizer(plugins: Plugins) -> None:
    ann = event(attendees=(Attendee("mailto:Ann@Example.com"), Attendee("bob@example.com")))
    org = event(organizer=Attendee("carl@example.com"))
    assert keeps(plugins, {"person": "ann@example.com"}, ann)
    assert keeps(plugins, {"person": ["MAILTO:ANN@example.com"]}, ann)
    assert keeps(plugins, {"person": ["x@example.com", "bob@example.com"]}, ann)
    assert not keeps(plugins, {"person": ["carl@example.com"]}, ann)
    assert keeps(plugins, {"person": ["carl@example.com"]}, org)
    assert not keeps(plugins, {"person": "ann@example.com"}, event())
    with pytest.raises(BuildError, match="'ann' is not an email address"):
        build_filter({"person": ["ann"]}, plugins.filters())


def test_build_filters_keeps_order_and_every_filter_must_keep(plugins: Plugins) -> None:
    filters = build_filters([{"type": "appointment"}, {"title": "^Job"}], plugins)
    assert len(filters) == 2
    both = event(categories=("appointment",))
    assert all(f(both) for f in filters)
    assert not all(f(event()) for f in filters)
    assert not all(f(both.replace(title="Lunch")) for f in filters)


def test_build_filters_raises_a_profile_error_for_a_bad_config(plugins: Plugins) -> None:
    with pytest.raises(ProfileError) as info:
        build_filters([{"type": "x"}, {"titel": "^Job"}], plugins)
    assert (info.value.key, info.value.message) == ("filters[1]", "unknown filter 'titel'")
    assert info.value.hint.startswith("did you mean 'title'? filters: category, exclude_title")


# -- builtin transforms ---------------------------------------------------------------------


PRIVATE = event(
    description="Customer: Mrs Smith, key under the mat",
    location="12 High Street",
    organizer=Attendee("boss@example.com"),
    attendees=(Attendee("ann@example.com"),),
    categories=("appointment",),
    transparency="opaque",
)


def test_busy_only_leaves_nothing_but_the_time(plugins: Plugins) -> None:
    busy = build_transforms(["busy-only"], plugins)[0](PRIVATE)
    assert (busy.title, busy.description, busy.location) == ("Busy", "", "")
    assert (busy.organizer, busy.attendees, busy.visibility) == (None, (), "private")
    assert (busy.start, busy.end, busy.transparency, busy.uid) == (
        PRIVATE.start,
        PRIVATE.end,
        "opaque",
        "e1",
    )
    custom = build_transforms([{"busy-only": {"title": "Blocked"}}], plugins)[0](PRIVATE)
    assert custom.title == "Blocked" and custom.location == ""


def test_busy_only_also_hides_overridden_instances(plugins: Plugins) -> None:
    moved = PRIVATE.replace(
        uid="e1",
        title="Job 42: moved",
        recurrence_id=START + timedelta(days=7),
        start=START + timedelta(days=8),
        end=START + timedelta(days=8, hours=1),
    )
    series = PRIVATE.replace(rrule=("FREQ=WEEKLY;COUNT=4",), overrides=(moved,))
    busy = build_transform("busy-only", plugins.transforms())(series)
    assert busy.title == "Busy" and busy.rrule == series.rrule
    (instance,) = busy.overrides
    assert (instance.title, instance.location, instance.attendees) == ("Busy", "", ())
    assert instance.recurrence_id == moved.recurrence_id


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Blocked", "busy-only takes no value or a mapping with: title"),
        ({"titel": "x"}, "unknown key 'titel' (valid keys here: title)"),
        ({"title": 3}, "busy-only: title must be text"),
    ],
)
def test_busy_only_checks_its_value(plugins: Plugins, value: Any, message: str) -> None:
    with pytest.raises(BuildError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_transform({"busy-only": value}, plugins.transforms())


def test_prefix_title_prefixes_once(plugins: Plugins) -> None:
    prefix = build_transform({"prefix-title": "[Job] "}, plugins.transforms())
    once = prefix(event())
    assert once.title == "[Job] Job 42: boiler"
    assert prefix(once) == once  # synced back and forth, it does not grow
    for bad in ("prefix-title", {"prefix-title": ""}, {"prefix-title": 3}):
        with pytest.raises(BuildError, match="prefix-title needs the text to put first"):
            build_transform(bad, plugins.transforms())


def test_transforms_apply_in_order(plugins: Plugins) -> None:
    steps = build_transforms([{"prefix-title": "[Job] "}, "busy-only"], plugins)
    result = PRIVATE
    for step in steps:
        result = step(result)
    assert result.title == "Busy"
    steps = build_transforms(["busy-only", {"prefix-title": "[Job] "}], plugins)
    result = PRIVATE
    for step in steps:
        result = step(result)
    assert result.title == "[Job] Busy"


# -- registration ---------------------------------------------------------------------------


class WeekdayPlugin:
    """A third party's filter and transform, registered like the builtins."""

    @hookimpl
    def syncfw_register_filters(self, register):
        def build(value):
            if value not in ("weekdays", "weekends"):
                raise ValueError(f"expected weekdays or weekends, not {value!r}")
            return lambda ev: (ev.start.weekday() < 5) == (value == "weekdays")

        register("days", build)

    @hookimpl
    def syncfw_register_transforms(self, register):
        register("shout", lambda value: lambda ev: ev.replace(title=ev.title.upper()))


def test_the_builtins_are_listed_with_plugin_ones() -> None:
    plugins = Plugins(autoload=False, extra=[WeekdayPlugin()])
    assert list(plugins.filters()) == [
        "category",
        "days",
        "exclude_title",
        "person",
        "title",
        "type",
    ]
    assert list(plugins.transforms()) == ["busy-only", "prefix-title", "shout"]


def test_one_name_from_two_plugins_is_an_error_naming_both() -> None:
    class Clash:
        @hookimpl
        def syncfw_register_filters(self, register):
            register("title", lambda value: lambda ev: True)

    with pytest.raises(SyncfwError, match="filter 'title' is registered twice: by builtin and by"):
        Plugins(autoload=False, extra=[Clash()]).filters()


def test_register_resets_the_cached_names(plugins: Plugins) -> None:
    assert "days" not in plugins.filters()
    plugins.register(WeekdayPlugin())
    assert "days" in plugins.filters() and "shout" in plugins.transforms()


# -- in profiles ----------------------------------------------------------------------------


PROFILE = """
version: 1
calendars:
  a: {driver: memory, name: a}
  b: {driver: memory, name: b}
pairs:
  - name: a-to-b
    source: a
    target: b
"""


@pytest.fixture
def load(tmp_path: Path):
    def load(extra: str, plugins: Plugins | None = None):
        path = tmp_path / "profile.yaml"
        text = textwrap.dedent(PROFILE).lstrip("\n") + extra
        path.write_text(text, encoding="utf-8")
        return load_profile(path, plugins or Plugins(autoload=False))

    return load


def test_a_plugin_filter_is_usable_from_a_profile(load) -> None:
    plugins = Plugins(autoload=False, extra=[WeekdayPlugin()])
    pair = load("    filters: [{days: weekdays}]\n    transforms: [shout]\n", plugins).pairs[0]
    assert pair.filters == [{"days": "weekdays"}] and pair.transforms == ["shout"]
    (keep,) = build_filters(pair.filters, plugins)
    (shout,) = build_transforms(pair.transforms, plugins)
    monday = event()  # 2030-05-06 is a Monday
    saturday = event(start=START + timedelta(days=5), end=START + timedelta(days=5, hours=1))
    assert keep(monday) and not keep(saturday)
    assert shout(monday).title == "JOB 42: BOILER"
    with pytest.raises(ProfileError) as info:
        load("    filters: [{days: sundays}]\n", plugins)
    assert (info.value.line, info.value.key) == (9, "pairs[0].filters[0].days")
    assert info.value.message == "expected weekdays or weekends, not 'sundays'"


def test_unknown_names_are_errors_listing_the_known_ones(load) -> None:
    with pytest.raises(ProfileErrors) as info:
        load(
            "    filters:\n      - {type: appointment}\n      - {titel: '^Job'}\n"
            "    transforms:\n      - busy-onyl\n      - {prefix: '[Job] '}\n"
        )
    first, second, third = info.value.errors
    assert (first.line, first.key, first.message) == (
        11,
        "pairs[0].filters[1].titel",
        "unknown filter 'titel'",
    )
    assert first.hint == (
        "did you mean 'title'? filters: category, exclude_title, person, title, type; "
        "a plugin's filter needs its package installed"
    )
    assert (second.line, second.key, second.message) == (
        13,
        "pairs[0].transforms[0]",
        "unknown transform 'busy-onyl'",
    )
    assert second.hint.startswith("did you mean 'busy-only'? transforms: busy-only, prefix-title")
    assert (third.line, third.key) == (14, "pairs[0].transforms[1].prefix")
    assert str(first).startswith(f"{first.file}:11: pairs[0].filters[1].titel: unknown filter")


def test_a_bad_regex_is_a_profile_error_at_its_line(load) -> None:
    with pytest.raises(ProfileError) as info:
        load("    filters:\n      - {title: '^Job'}\n      - exclude_title: '[Lunch'\n")
    err = info.value
    assert (err.line, err.key) == (11, "pairs[0].filters[1].exclude_title")
    assert err.message.startswith("invalid regular expression '[Lunch': unterminated character set")


def test_shapes_are_checked_once(load) -> None:
    with pytest.raises(ProfileError) as info:
        load("    transforms: [{busy-only: {}, prefix-title: x}]\n")
    assert not isinstance(info.value, ProfileErrors)  # not also "unknown transform"
    assert (info.value.line, info.value.key) == (9, "pairs[0].transforms[0]")
    assert "exactly one key" in info.value.message
