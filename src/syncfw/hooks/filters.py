"""Filters and transforms: which events of a source a pair syncs, and how they look in the target.

A *filter* decides whether an event is synced (True keeps it); a *transform* returns the
event as the target should see it. Both are plain callables, built from the profile's
value by a *builder* that a plugin registers by name through the
``syncfw_register_filters`` / ``syncfw_register_transforms`` hooks. The builtins below
register the same way, so a third-party filter is used exactly like ``title``::

    filters: [{type: [appointment]}, {title: "^Job"}]      # every filter must keep it
    transforms: [busy-only, {prefix-title: "[Job] "}]      # applied in this order

Builders run when a profile is loaded, so a bad value (an invalid regex, a wrong type) is a
profile error at its line, long before a run; they raise ``ValueError`` or ``TypeError``
with a message for the user. The engine builds the callables again with
:func:`build_filters` / :func:`build_transforms` from the raw configs on
:class:`~syncfw.config.models.PairConfig`.

A transform sees a series and, separately, each of its overridden instances (the framework
maps it over ``overrides``), so a transform only ever changes the one event it is given.
Transforms run again on every read of an unchanged source event, so they must be
deterministic, or the target would be rewritten each run. Whatever a built filter or
transform raises on an event comes out as :class:`~syncfw.errors.StepFailed` naming the
step: that event is reported and left alone, the others sync.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from syncfw.errors import BuildError, ProfileError, StepFailed, Unreadable
from syncfw.markers import hookimpl
from syncfw.model import Event

if TYPE_CHECKING:
    from syncfw.hooks.manager import Plugins

__all__ = [
    "BuildError",
    "Filter",
    "FilterBuilder",
    "Transform",
    "TransformBuilder",
    "build_filter",
    "build_filters",
    "build_transform",
    "build_transforms",
    "split_step",
]

Filter = Callable[[Event], bool]
"""True keeps the event, False leaves it out of the sync."""
Transform = Callable[[Event], Event]
"""The event as the target should see it."""
FilterBuilder = Callable[[Any], Filter]
"""Turns the profile's value into a filter; raises ValueError/TypeError for a bad value."""
TransformBuilder = Callable[[Any], Transform]
"""Turns the profile's value (None for a bare name) into a transform; same errors."""


# -- building -------------------------------------------------------------------------------


def split_step(config: Any, kind: str) -> tuple[str, Any]:
    """``{name: value}`` -> (name, value); a bare ``name`` -> (name, None).

    ``kind`` is "filter" or "transform"; only transforms may be written as a bare name.
    """
    if isinstance(config, Mapping) and len(config) == 1:
        ((name, value),) = config.items()
        if isinstance(name, str):
            return name, value
    if kind == "transform" and isinstance(config, str):
        return config, None
    example = (
        "{type: [appointment]}" if kind == "filter" else "busy-only or {prefix-title: '[Job] '}"
    )
    raise TypeError(f"a {kind} is a mapping with exactly one key, e.g. {example}")


def _build(config: Any, builders: Mapping[str, Callable[[Any], Any]], kind: str) -> Any:
    try:
        name, value = split_step(config, kind)
    except TypeError as exc:
        raise BuildError("", str(exc)) from None
    builder = builders.get(name)
    if builder is None:
        close = difflib.get_close_matches(name, builders, n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        known = ", ".join(sorted(builders)) or "none"
        hint = f"{guess}{kind}s: {known}; a plugin's {kind} needs its package installed"
        raise BuildError(name, f"unknown {kind} {name!r}", hint)
    try:
        return builder(value)
    except (ValueError, TypeError) as exc:
        raise BuildError(name, str(exc)) from None


def _guarded(kind: str, config: Any, step: Callable[[Event], Any]) -> Callable[[Event], Any]:
    """``step`` raising on an event becomes :class:`StepFailed` naming it: a bug in a
    filter or transform is reported as such, never as an event that cannot be read.
    :class:`Unreadable` passes as it is (a step that expands a series may find it so)."""
    name = split_step(config, kind)[0]

    def guarded(event: Event) -> Any:
        try:
            return step(event)
        except Unreadable:
            raise
        except Exception as exc:
            raise StepFailed(kind, name, exc) from exc

    return guarded


def build_filter(config: Any, builders: Mapping[str, FilterBuilder]) -> Filter:
    """One filter from its profile form ``{name: value}``; raises :class:`BuildError`.

    The filter raises :class:`~syncfw.errors.StepFailed` for whatever the plugin's
    predicate raised on an event.
    """
    built: Filter = _guarded("filter", config, _build(config, builders, "filter"))
    return built


def build_transform(config: Any, builders: Mapping[str, TransformBuilder]) -> Transform:
    """One transform from ``name`` or ``{name: value}``; raises :class:`BuildError`.

    The result also transforms each overridden instance of a series, and raises
    :class:`~syncfw.errors.StepFailed` for whatever the plugin's function raised.
    """
    transform: Transform = _guarded("transform", config, _build(config, builders, "transform"))

    def each_instance(event: Event) -> Event:
        result = transform(event)
        if result.overrides:
            result = result.replace(overrides=tuple(transform(o) for o in result.overrides))
        return result

    return each_instance


def build_filters(configs: Iterable[Any], plugins: Plugins) -> list[Filter]:
    """The filters of a pair (``PairConfig.filters``), in order; an event is synced when
    every one keeps it. Raises ProfileError naming the item (the profile loader has
    already checked them, so this only fails if the plugins changed since)."""
    return [
        _or_profile_error(build_filter, c, plugins.filters(), "filters", i)
        for i, c in enumerate(configs)
    ]


def build_transforms(configs: Iterable[Any], plugins: Plugins) -> list[Transform]:
    """The transforms of a pair (``PairConfig.transforms``), to apply in order."""
    return [
        _or_profile_error(build_transform, c, plugins.transforms(), "transforms", i)
        for i, c in enumerate(configs)
    ]


def _or_profile_error(
    build: Callable[[Any, Any], Any], config: Any, builders: Any, key: str, index: int
) -> Any:
    try:
        return build(config, builders)
    except BuildError as exc:
        raise ProfileError(exc.message, key=f"{key}[{index}]", hint=exc.hint) from None


# -- the builtin filters --------------------------------------------------------------------


def _strings(value: Any, what: str, example: str) -> tuple[str, ...]:
    """A string or a non-empty list of strings (a single value is the common case)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise TypeError(f"expected {what}: a text or a list of texts, e.g. {example}")
    return tuple(items)


def categories_filter(value: Any) -> Filter:
    """``type`` / ``category``: keep events with one of these categories (any case).

    The job calendar writes an appointment's type as its first category.
    """
    wanted = frozenset(v.casefold() for v in _strings(value, "categories", "[appointment]"))
    return lambda event: any(c.casefold() in wanted for c in event.categories)


def admit_categories(configs: Iterable[Any]) -> Callable[[Event], Event]:
    """For events coming *into* the source (two-sided pairs): give an event that a
    ``type``/``category`` filter would leave out that filter's first category, so a
    remote event pulled into a job calendar becomes, say, an "appointment"."""
    wanted: list[tuple[str, ...]] = []
    for config in configs:
        name, value = split_step(config, "filter")
        if name in ("type", "category"):
            wanted.append(_strings(value, "categories", "[appointment]"))

    def admit(event: Event) -> Event:
        for values in wanted:
            folded = {v.casefold() for v in values}
            if not any(c.casefold() in folded for c in event.categories):
                event = event.replace(categories=(values[0], *event.categories))
        return event

    return admit


def _regex(value: Any) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise TypeError(f"expected a regular expression as text, got {type(value).__name__}")
    try:
        return re.compile(value)
    except re.error as exc:  # not a ValueError: say what is wrong in the user's terms
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from None


def title_filter(value: Any) -> Filter:
    """``title``: keep events whose title matches the regex (anywhere; ``^`` anchors)."""
    pattern = _regex(value)
    return lambda event: pattern.search(event.title) is not None


def exclude_title_filter(value: Any) -> Filter:
    """``exclude_title``: leave out events whose title matches the regex."""
    pattern = _regex(value)
    return lambda event: pattern.search(event.title) is None


def _address(value: str) -> str:
    value = value.strip()
    return value[7:] if value[:7].lower() == "mailto:" else value


def person_filter(value: Any) -> Filter:
    """``person``: keep events with one of these addresses as attendee or organizer."""
    emails = _strings(value, "email addresses", "[ann@example.com]")
    bad = [e for e in emails if "@" not in e]
    if bad:
        raise ValueError(f"{bad[0]!r} is not an email address (name@domain)")
    wanted = frozenset(_address(e).casefold() for e in emails)

    def keep(event: Event) -> bool:
        people = (*event.attendees, event.organizer) if event.organizer else event.attendees
        return any(_address(p.email).casefold() in wanted for p in people)

    return keep


# -- the builtin transforms -----------------------------------------------------------------


def _options(value: Any, name: str, known: Sequence[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} takes no value or a mapping with: {', '.join(known)}")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (valid keys here: {', '.join(known)})")
    return dict(value)


def busy_only_transform(value: Any) -> Transform:
    """``busy-only``: the target sees a private block of time and nothing else.

    Title replaced (default "Busy"); description, location, organizer and attendees
    dropped; visibility private. Time, status and transparency stay: they are the point.
    """
    title = _options(value, "busy-only", ["title"]).get("title", "Busy")
    if not isinstance(title, str):
        raise TypeError("busy-only: title must be text, e.g. {busy-only: {title: Busy}}")

    def busy(event: Event) -> Event:
        return event.replace(
            title=title,
            description="",
            location="",
            organizer=None,
            attendees=(),
            visibility="private",
        )

    return busy


def prefix_title_transform(value: Any) -> Transform:
    """``prefix-title``: put a text before every title (once: a title that already
    starts with it is left alone, so syncing an event back and forth never doubles it)."""
    if not isinstance(value, str) or not value:
        raise TypeError("prefix-title needs the text to put first, e.g. {prefix-title: '[Job] '}")

    def prefix(event: Event) -> Event:
        if event.title.startswith(value):
            return event
        return event.replace(title=value + event.title)

    return prefix


@hookimpl
def syncfw_register_filters(register: Callable[[str, FilterBuilder], None]) -> None:
    register("type", categories_filter)
    register("category", categories_filter)
    register("title", title_filter)
    register("exclude_title", exclude_title_filter)
    register("person", person_filter)


@hookimpl
def syncfw_register_transforms(register: Callable[[str, TransformBuilder], None]) -> None:
    register("busy-only", busy_only_transform)
    register("prefix-title", prefix_title_transform)
