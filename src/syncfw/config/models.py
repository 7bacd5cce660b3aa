"""Profiles: a YAML file in, validated and typed objects out, ``file:line`` in every error.

:mod:`syncfw.config.yamlsource` reads the file: plain data, the line of every key, ``${VAR}``
interpolation and the redaction of secrets. This module holds the models of each section,
the placeholders of a person's calendar and :func:`load_profile`, the public way in;
:mod:`syncfw.config.loader` makes the checks pydantic cannot (references between sections,
unique names). Every problem of a file is collected and reported at once, one per line, so
a user fixes a profile in one pass instead of one error per run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from syncfw.config.yamlsource import Loc
from syncfw.errors import ProfileError
from syncfw.hooks.filters import split_step
from syncfw.model import Person
from syncfw.sdk.driver import DriverOptions

__all__ = [
    "PLACEHOLDERS",
    "SUPPORTED_VERSIONS",
    "AttendeesConfig",
    "CalendarConfig",
    "PairConfig",
    "PersonsConfig",
    "Profile",
    "RecurrenceConfig",
    "SafetyConfig",
    "WindowConfig",
    "fill_placeholders",
    "person_calendar_options",
]

SUPPORTED_VERSIONS = (1,)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MAX_DAYS = 36_500


class WindowConfig(_Section):
    """The span a pair syncs, in whole days back from and ahead of now."""

    # At most a century: further would overflow the calendar (year 9999) and no provider
    # lists that far anyway.
    past_days: int = Field(default=7, ge=0, le=MAX_DAYS)
    future_days: int = Field(default=90, ge=0, le=MAX_DAYS)


class RecurrenceConfig(_Section):
    """``expand`` writes single instances up to the horizon; ``series`` keeps RRULEs."""

    mode: Literal["expand", "series"] = "expand"
    horizon_days: int = Field(default=365, ge=1, le=MAX_DAYS)


class AttendeesConfig(_Section):
    """How persons reach an event: invited on it, or as a copy in their own calendar.

    ``calendar`` is the template of each person's calendar for ``fan_out: copy``: a
    driver and its options, whose texts may hold ``{email}``, ``{name}`` and ``{local}``
    (see :meth:`PairConfig.person_calendar`).
    """

    fan_out: Literal["invite", "copy"] = "invite"
    notify: Literal["none", "all", "external"] = "none"
    keep_external: bool = False
    calendar: dict[str, Any] | None = None


class SafetyConfig(_Section):
    """The mass-delete guard: refuse a run deleting more than this share of a target
    (once at least ``min_deletes`` deletes are planned) — usually a read came back empty."""

    max_delete_share: float = Field(default=0.5, gt=0, le=1)
    min_deletes: int = Field(default=10, ge=0)


def _step_shape(kind: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        try:
            split_step(value, kind)
        except TypeError as exc:  # pydantic turns only ValueError into a problem
            raise ValueError(str(exc)) from None
        return value

    return BeforeValidator(check)


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number of minutes, e.g. 15 or 0.5")
    return value


class PairConfig(_Section):
    """One direction of sync between two calendars of the profile."""

    name: str = Field(min_length=1)
    source: str
    target: str
    policy: str = "master-push"
    conflict: Literal["source-wins", "target-wins", "newest-wins", "fail"] = "source-wins"
    window: WindowConfig = WindowConfig()
    recurrence: RecurrenceConfig = RecurrenceConfig()
    attendees: AttendeesConfig = AttendeesConfig()
    filters: list[Annotated[dict[str, Any], _step_shape("filter")]] = []
    transforms: list[Annotated[str | dict[str, Any], _step_shape("transform")]] = []
    interval_minutes: Annotated[
        float, BeforeValidator(_not_bool), Field(gt=0, allow_inf_nan=False)
    ] = 15.0
    safety: SafetyConfig = SafetyConfig()
    # Given by the loader at construction (validation context), not keys of the file: a
    # `line:` key stays an error. A model_copy keeps them.
    _line: int = PrivateAttr(0)
    _person_options: type[DriverOptions] | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _from_the_loader(self, info: ValidationInfo) -> PairConfig:
        context = info.context or {}
        self._line = int(context.get("line", 0))
        self._person_options = context.get("person_options")
        return self

    @property
    def line(self) -> int:
        """The profile line where this pair starts."""
        return self._line

    def person_calendar(self, person: Person, base_dir: Path) -> tuple[str, DriverOptions]:
        """The calendar a person's copies go to (``fan_out: copy``): the driver's name and
        its options, validated, with ``attendees.calendar``'s placeholders filled for
        ``person`` and relative paths counted from ``base_dir`` (``Profile.base_dir``).

        Raises ProfileError when the pair has no template, or when this person's values
        do not fit the driver (the load checked the template with a sample person only).
        """
        where = f"pair {self.name!r}: attendees.calendar"
        template = self.attendees.calendar
        if template is None:
            raise ProfileError(f"{where} is not set", hint="fan_out: copy needs it")
        driver = str(template["driver"])
        options_cls = self._person_options
        if options_cls is None:
            raise ProfileError(
                f"{where}: the driver {driver!r} was not known when the pair was made",
                hint="load the profile with syncfw.load_profile",
            )
        options = fill_placeholders({k: v for k, v in template.items() if k != "driver"}, person)
        try:
            validated = options_cls.model_validate(options, context={"base_dir": base_dir})
        except ValidationError as exc:
            problems = "; ".join(
                ".".join(map(str, e["loc"])) + ": " + e["msg"] for e in exc.errors()
            )
            raise ProfileError(f"{where} for {person.email}: {problems}") from None
        return driver, validated


def person_calendar_options(
    profile: Profile, pair: PairConfig, person: Person
) -> tuple[str, DriverOptions]:
    """:meth:`PairConfig.person_calendar` with the profile's folder as the base of paths."""
    return pair.person_calendar(person, profile.base_dir)


PLACEHOLDERS = ("email", "name", "local")
PLACEHOLDER_PATTERN = re.compile(r"\{(\w+)\}")
SAMPLE_PERSON = Person("Person Example", "person@example.com")


def fill_placeholders(value: Any, person: Person) -> Any:
    """``value`` with ``{email}``, ``{name}`` and ``{local}`` (the email before the ``@``)
    replaced in every text, nested ones too; other braces stay as they are. Path
    separators in the person's values become ``-``, so a name cannot climb out of a folder.
    """
    values = {
        "email": person.email,
        "name": person.name,
        "local": person.email.rsplit("@", 1)[0],
    }
    safe = {k: re.sub(r"[/\\\x00]", "-", v).lstrip(".") or "-" for k, v in values.items()}
    if isinstance(value, str):
        return PLACEHOLDER_PATTERN.sub(lambda m: safe.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {k: fill_placeholders(v, person) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_placeholders(v, person) for v in value]
    return value


def _email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        raise ValueError(f"{value!r} is not an email address (name@domain)")
    return value


class PersonSpec(_Section):
    name: str = Field(min_length=1)
    email: Annotated[str, AfterValidator(_email)]
    aliases: list[str] = []
    sync: bool = True


@dataclass(frozen=True, slots=True)
class CalendarConfig:
    """A named calendar: its driver's name and its validated ``Options``."""

    name: str
    driver: str
    options: DriverOptions
    line: int


@dataclass(frozen=True, slots=True)
class PersonsConfig:
    """Where persons come from: a calendar's directory (``source``) or the profile's list."""

    source: str | None = None
    persons: tuple[Person, ...] = ()

    @property
    def people(self) -> tuple[Person, ...]:
        return self.persons


@dataclass(frozen=True)
class Profile:
    """A loaded, valid profile. Paths are absolute."""

    path: Path
    base_dir: Path
    version: int
    state_path: Path
    calendars: dict[str, CalendarConfig]
    persons: PersonsConfig
    pairs: list[PairConfig]
    key_lines: Mapping[Loc, int] = field(default_factory=dict, repr=False, compare=False)

    def pair(self, name: str) -> PairConfig:
        for pair in self.pairs:
            if pair.name == name:
                return pair
        names = ", ".join(p.name for p in self.pairs) or "none"
        raise ProfileError(f"no pair named {name!r}", file=str(self.path), hint=f"pairs: {names}")

    def line_of(self, *key_path: str | int) -> int | None:
        """The line of ``key_path`` (e.g. ``"pairs", 0, "window"``), or of its nearest
        enclosing key when the file leaves it to its default; None if no part is in the file."""
        for n in range(len(key_path), 0, -1):
            if key_path[:n] in self.key_lines:
                return self.key_lines[key_path[:n]]
        return None
