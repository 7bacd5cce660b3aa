"""Profiles: a YAML file in, validated and typed objects out, ``file:line`` in every error.

:mod:`syncfw.yamlsource` reads the file: plain data, the line of every key, ``${VAR}``
interpolation and the redaction of secrets. This module holds the models of each section
and the checks pydantic cannot make (references between sections, unique names). Every
problem of a file is collected and reported at once, one per line, so a user fixes a profile
in one pass instead of one error per run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
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
)

from .driver import DriverOptions
from .errors import ProfileError
from .filters import BuildError, build_filter, build_transform, split_step
from .model import Person
from .plugins import Plugins, default_plugins
from .yamlsource import Loc, YamlSource, did_you_mean

__all__ = [
    "PLACEHOLDERS",
    "SUPPORTED_VERSIONS",
    "AttendeesConfig",
    "CalendarConfig",
    "PairConfig",
    "PersonsConfig",
    "Profile",
    "ProfileErrors",
    "RecurrenceConfig",
    "SafetyConfig",
    "WindowConfig",
    "fill_placeholders",
    "load_profile",
    "person_calendar_options",
]

SUPPORTED_VERSIONS = (1,)
TOP_LEVEL_KEYS = ("calendars", "pairs", "persons", "state", "version")
DEFAULT_POLICIES = ("master-push",)  # used until a plugin registers policies


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowConfig(_Section):
    """The span a pair syncs, in whole days back from and ahead of now."""

    past_days: int = Field(default=7, ge=0)
    future_days: int = Field(default=90, ge=0)


class RecurrenceConfig(_Section):
    """``expand`` writes single instances up to the horizon; ``series`` keeps RRULEs."""

    mode: Literal["expand", "series"] = "expand"
    horizon_days: int = Field(default=365, ge=1)


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
    _line: int = PrivateAttr(0)  # private, so a `line:` key in the file stays an error
    _person_options: type[DriverOptions] | None = PrivateAttr(None)

    @property
    def line(self) -> int:
        """The profile line where this pair starts."""
        return self._line

    def person_calendar(
        self, person: Person, base_dir: Path, plugins: Plugins | None = None
    ) -> tuple[str, DriverOptions]:
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
        if options_cls is None:  # a PairConfig built in code, not by load_profile
            options_cls = (plugins or default_plugins()).drivers()[driver].cls.Options
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
    profile: Profile, pair: PairConfig, person: Person, plugins: Plugins | None = None
) -> tuple[str, DriverOptions]:
    """:meth:`PairConfig.person_calendar` with the profile's folder as the base of paths."""
    return pair.person_calendar(person, profile.base_dir, plugins)


PLACEHOLDERS = ("email", "name", "local")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
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
        return _PLACEHOLDER.sub(lambda m: safe.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {k: fill_placeholders(v, person) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_placeholders(v, person) for v in value]
    return value


def _email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        raise ValueError(f"{value!r} is not an email address (name@domain)")
    return value


class _PersonSpec(_Section):
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


class ProfileErrors(ProfileError):
    """Several problems at once. ``errors`` holds each; ``file``/``line``/``key``/``hint``
    are the first one's, and ``str()`` lists them all, one per line."""

    def __init__(self, errors: list[ProfileError]) -> None:
        first = errors[0]
        super().__init__(
            first.message, file=first.file, line=first.line, key=first.key, hint=first.hint
        )
        self.errors = tuple(errors)
        self.args = ("\n".join(str(e) for e in errors),)


def load_profile(path: str | Path, plugins: Plugins | None = None) -> Profile:
    """Read, interpolate and validate a profile; raise ProfileError with every problem."""
    shown = str(path)
    file = Path(path).expanduser().absolute()
    source = YamlSource.read(
        file, shown, expected_keys=TOP_LEVEL_KEYS, empty_hint="start with 'version: 1'"
    )
    return _Loader(source, file, plugins or default_plugins()).load()


class _Loader:
    """One load: checks the plain data of the file section by section, collects the problems."""

    def __init__(self, source: YamlSource, file: Path, plugins: Plugins) -> None:
        self.source, self.file, self.plugins = source, file, plugins
        self.base_dir = file.parent
        # Problems are kept by the source: it knows the lines and which values are secret.
        self.error = source.error
        self.line_for = source.line_for

    def raise_problems(self) -> None:
        errors = self.source.problems()
        if errors:
            raise errors[0] if len(errors) == 1 else ProfileErrors(errors)

    # -- the sections -----------------------------------------------------------------------

    def load(self) -> Profile:
        data = self.source.data
        version = data.get("version")
        if "version" not in data:
            self.error((), "missing key 'version'", f"add 'version: 1'; {_supported()}")
        elif version not in SUPPORTED_VERSIONS or isinstance(version, bool):
            self.source.clear_problems()  # another format: any further complaint would be noise
            self.error(("version",), f"unsupported profile version {version!r}", _supported())
            self.raise_problems()
        for key in data:
            if key not in TOP_LEVEL_KEYS and not key.startswith("x-"):
                hint = did_you_mean(key, TOP_LEVEL_KEYS) + "; keys starting with 'x-' are ignored"
                self.error((key,), f"unknown key {key!r}", hint)
        state = self.state_path(data.get("state"))
        calendars = self.calendars(data)
        names = sorted(data["calendars"]) if isinstance(data.get("calendars"), dict) else []
        persons = self.persons(data.get("persons"), names)
        pairs = self.pairs(data, names)
        self.raise_problems()
        return Profile(
            path=self.file,
            base_dir=self.base_dir,
            version=SUPPORTED_VERSIONS[0],
            state_path=state,
            calendars=calendars,
            persons=persons,
            pairs=pairs,
            key_lines=dict(self.source.lines),
        )

    def state_path(self, raw: Any) -> Path:
        if raw is None:
            return self.base_dir / ".syncfw" / f"{self.file.stem}.db"
        if not isinstance(raw, str) or not raw.strip():
            self.error(("state",), "must be a file path", "e.g. state: .syncfw/state.db")
            return self.base_dir
        path = Path(raw).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def calendars(self, data: dict[str, Any]) -> dict[str, CalendarConfig]:
        raw = data.get("calendars")
        example = "e.g. calendars: {master: {driver: ics, path: master.ics}}"
        if raw is None:
            self.error((), "missing key 'calendars'", example)
            return {}
        if not isinstance(raw, dict):
            self.error(("calendars",), "must map calendar names to {driver: ..., ...}", example)
            return {}
        drivers = self.plugins.drivers()
        installed = f"installed drivers: {', '.join(sorted(drivers)) or 'none'}"
        found: dict[str, CalendarConfig] = {}
        for name, spec in raw.items():
            loc: Loc = ("calendars", name)
            if not isinstance(spec, dict):
                self.error(loc, "must be a mapping with 'driver' and its options", installed)
            elif "driver" not in spec:
                self.error(loc, "missing key 'driver'", installed)
            elif not isinstance(spec["driver"], str) or spec["driver"] not in drivers:
                hint = f"{installed}; a plugin's driver needs its package installed"
                self.error((*loc, "driver"), f"unknown driver {spec['driver']!r}", hint)
            else:
                info = drivers[spec["driver"]]
                options = {k: v for k, v in spec.items() if k != "driver"}
                try:
                    validated = info.cls.Options.model_validate(
                        options, context={"base_dir": self.base_dir}
                    )
                except ValidationError as exc:
                    self.source.report_invalid(exc, loc, options, info.cls.Options)
                    continue
                found[name] = CalendarConfig(name, info.name, validated, self.source.lines[loc])
        return found

    def persons(self, raw: Any, calendars: list[str]) -> PersonsConfig:
        if raw is None:
            return PersonsConfig()
        if isinstance(raw, dict):
            for key in raw.keys() - {"from"}:
                self.error(("persons", key), f"unknown key {key!r}", "valid keys here: from")
            source = raw.get("from")
            if "from" not in raw:
                self.error(("persons",), "missing key 'from'", "e.g. persons: {from: jobs}")
            elif source not in calendars:
                hint = f"calendars: {', '.join(calendars) or 'none'}"
                self.error(("persons", "from"), f"{source!r} is not a calendar", hint)
            return PersonsConfig(source=source if isinstance(source, str) else None)
        if not isinstance(raw, list):
            hint = "persons: {from: CALENDAR} or persons: [{name: ..., email: ...}]"
            self.error(("persons",), "must be a mapping or a list", hint)
            return PersonsConfig()
        people: list[Person] = []
        lines: dict[str, int] = {}
        for i, item in enumerate(raw):
            try:
                spec = _PersonSpec.model_validate(item)
            except ValidationError as exc:
                self.source.report_invalid(exc, ("persons", i), item, _PersonSpec)
                continue
            email = spec.email.lower()
            if email in lines:
                message = f"{spec.email!r} is listed twice (first at line {lines[email]})"
                self.error(("persons", i, "email"), message)
            lines.setdefault(email, self.line_for(("persons", i)))
            people.append(Person(spec.name, spec.email, tuple(spec.aliases), spec.sync))
        return PersonsConfig(persons=tuple(people))

    def pairs(self, data: dict[str, Any], calendars: list[str]) -> list[PairConfig]:
        raw = data.get("pairs")
        example = "e.g. pairs: [{name: jobs-to-master, source: jobs, target: master}]"
        if raw is None or not isinstance(raw, list):
            message = "missing key 'pairs'" if raw is None else "must be a list of pairs"
            self.error(() if raw is None else ("pairs",), message, example)
            return []
        policies = (sorted(self.plugins.policies()) or list(DEFAULT_POLICIES)) if raw else []
        found: list[PairConfig] = []
        names: dict[str, int] = {}
        for i, spec in enumerate(raw):
            loc: Loc = ("pairs", i)
            if not isinstance(spec, dict):
                self.error(loc, "a pair must be a mapping", example)
                continue
            self.check_pair(spec, loc, calendars, policies, names)
            self.check_steps(spec, loc)
            person_options = self.check_person_calendar(spec, loc)
            try:
                pair = PairConfig.model_validate(spec)
            except ValidationError as exc:
                self.source.report_invalid(exc, loc, spec, PairConfig)
                continue
            pair._line = self.source.lines[loc]
            pair._person_options = person_options
            found.append(pair)
        return found

    def check_steps(self, spec: dict[str, Any], loc: Loc) -> None:
        """Build every filter and transform once, so a bad one fails the load at its line."""
        for key in ("filters", "transforms"):
            items = spec.get(key)
            if not isinstance(items, list) or not items:
                continue
            build: Callable[[Any], object]
            if key == "filters":
                build = partial(build_filter, builders=self.plugins.filters())
            else:
                build = partial(build_transform, builders=self.plugins.transforms())
            for j, item in enumerate(items):
                try:
                    build(item)
                except BuildError as exc:
                    if not exc.name:
                        continue  # not a one-key mapping: pydantic reports the shape
                    at: Loc = (*loc, key, j) + ((exc.name,) if isinstance(item, dict) else ())
                    self.error(at, exc.message, exc.hint)

    def check_person_calendar(self, spec: dict[str, Any], loc: Loc) -> type[DriverOptions] | None:
        """``attendees.calendar``: needed for ``fan_out: copy``, an installed driver that
        writes, options valid once a sample person fills the placeholders. Returns the
        driver's Options class for :meth:`PairConfig.person_calendar`."""
        attendees = spec.get("attendees")
        if not isinstance(attendees, dict):
            return None
        at: Loc = (*loc, "attendees", "calendar")
        template = attendees.get("calendar")
        example = 'e.g. calendar: {driver: ics, path: "people/{local}.ics"}'
        if template is None:
            if attendees.get("fan_out") == "copy":
                message = "fan_out: copy needs attendees.calendar, the calendar of each person"
                self.error((*loc, "attendees", "fan_out"), message, example)
            return None
        if not isinstance(template, dict):
            return None  # pydantic says it must be a mapping
        drivers = self.plugins.drivers()
        installed = f"installed drivers: {', '.join(sorted(drivers)) or 'none'}"
        driver = template.get("driver")
        if "driver" not in template:
            self.error(at, "missing key 'driver'", f"{example}; {installed}")
            return None
        if not isinstance(driver, str) or driver not in drivers:
            self.error((*at, "driver"), f"unknown driver {driver!r}", installed)
            return None
        cls = drivers[driver].cls
        if not cls.capabilities.write:
            self.error((*at, "driver"), f"driver {driver!r} cannot write", "choose another driver")
            return None
        options = {k: v for k, v in template.items() if k != "driver"}
        self.check_placeholders(options, at)
        sample = fill_placeholders(options, SAMPLE_PERSON)
        try:
            cls.Options.model_validate(sample, context={"base_dir": self.base_dir})
        except ValidationError as exc:
            self.source.report_invalid(exc, at, sample, cls.Options)
        return cls.Options

    def check_placeholders(self, value: Any, at: Loc) -> None:
        """A ``{word}`` that is no placeholder is most likely a typo of one."""
        if isinstance(value, dict | list):
            pairs = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in pairs:
                self.check_placeholders(item, (*at, key))
        elif isinstance(value, str) and not self.source.is_interpolated(at):
            for word in _PLACEHOLDER.findall(value):
                if word not in PLACEHOLDERS:
                    hint = "placeholders: " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                    self.error(at, f"unknown placeholder {{{word}}}", hint)

    def check_pair(
        self,
        spec: dict[str, Any],
        loc: Loc,
        calendars: list[str],
        policies: list[str],
        names: dict[str, int],
    ) -> None:
        """The checks pydantic cannot make: references to the rest of the profile."""
        name = spec.get("name")
        if isinstance(name, str) and name in names:
            message = f"pair name {name!r} is used twice (first at line {names[name]})"
            self.error((*loc, "name"), message, "pair names must be unique")
        elif isinstance(name, str):
            names[name] = self.line_for((*loc, "name"))
        for end in ("source", "target"):
            value = spec.get(end)
            if isinstance(value, str) and value not in calendars:
                hint = f"calendars: {', '.join(calendars) or 'none'}"
                self.error((*loc, end), f"{value!r} is not a calendar", hint)
        if isinstance(spec.get("source"), str) and spec.get("source") == spec.get("target"):
            hint = "a pair syncs one calendar into another"
            self.error((*loc, "target"), "source and target are the same calendar", hint)
        policy = spec.get("policy")
        if isinstance(policy, str) and policy not in policies:
            self.error(
                (*loc, "policy"), f"unknown policy {policy!r}", f"policies: {', '.join(policies)}"
            )


def _supported() -> str:
    return "supported versions: " + ", ".join(map(str, SUPPORTED_VERSIONS))
