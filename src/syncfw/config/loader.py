"""Loading a profile: the checks a file must pass beyond the shape of each section.

:mod:`syncfw.config.models` holds the models and is the public home (``load_profile`` lives
there); this module walks the plain data of the file section by section and makes the
checks pydantic cannot: references between sections, unique names, drivers and policies
that are installed, filters and transforms that build, the ``attendees.calendar`` template
filled for a sample person. Problems are collected, not raised one by one, so a user fixes
a profile in one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syncfw.config.models import (
    PLACEHOLDER_PATTERN,
    PLACEHOLDERS,
    SAMPLE_PERSON,
    SUPPORTED_VERSIONS,
    CalendarConfig,
    PairConfig,
    PersonsConfig,
    PersonSpec,
    Profile,
    fill_placeholders,
)
from syncfw.config.yamlsource import Loc, YamlSource, did_you_mean
from syncfw.errors import BuildError, ProfileErrors
from syncfw.hooks.filters import build_filter, build_transform
from syncfw.hooks.manager import Plugins, default_plugins
from syncfw.model import Person
from syncfw.sdk.driver import DriverOptions

__all__ = ["TOP_LEVEL_KEYS", "load_profile"]

TOP_LEVEL_KEYS = ("calendars", "pairs", "persons", "state", "version")
DEFAULT_POLICIES = ("master-push",)  # used until a plugin registers policies


def load_profile(path: str | Path, plugins: Plugins | None = None) -> Profile:
    """Read, interpolate and validate a profile; raise ProfileError with every problem.

    ``plugins`` knows the drivers, policies, filters and transforms the profile may name
    (the process-wide plugin manager when not given).
    """
    plugins = plugins or default_plugins()
    shown = str(path)
    file = Path(path).expanduser().absolute()
    source = YamlSource.read(
        file, shown, expected_keys=TOP_LEVEL_KEYS, empty_hint="start with 'version: 1'"
    )
    return _Loader(source, file, plugins).load()


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
        self.check_stores(data.get("pairs"), calendars)
        self.check_capabilities(data.get("pairs"), calendars)
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
                spec = PersonSpec.model_validate(item)
            except ValidationError as exc:
                self.source.report_invalid(exc, ("persons", i), item, PersonSpec)
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
            context = {"line": self.source.lines[loc], "person_options": person_options}
            try:
                pair = PairConfig.model_validate(spec, context=context)
            except ValidationError as exc:
                self.source.report_invalid(exc, loc, spec, PairConfig)
                continue
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
            for word in PLACEHOLDER_PATTERN.findall(value):
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
        if isinstance(name, str) and ">" in name:
            hint = "'>' is kept for the pairs generated per person (fan_out: copy)"
            self.error((*loc, "name"), f"pair name {name!r} contains '>'", hint)
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
        elif getattr(self.plugins.policies().get(str(policy)), "two_sided", False):
            self.check_two_sided(spec, loc, str(policy))
        elif "conflict" in spec:
            hint = "conflict: applies to two-way pairs (policy: two-way)"
            self.error((*loc, "conflict"), "a master-push pair has no conflicts to settle", hint)

    def check_capabilities(self, raw: Any, calendars: dict[str, CalendarConfig]) -> None:
        """What a pair does with its calendars, against what their drivers can: both are
        read; the target is written (a two-sided policy writes the source too) and must
        give back the uids syncfw writes, or no run could recognise its own events."""
        drivers = self.plugins.drivers()
        policies = self.plugins.policies()
        for i, spec in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(spec, dict):
                continue
            policy = policies.get(str(spec.get("policy", "master-push")))
            written = ("target", "source") if policy and policy.two_sided else ("target",)
            for end in ("source", "target"):
                name = spec.get(end)
                calendar = calendars.get(name) if isinstance(name, str) else None
                if calendar is None or calendar.driver not in drivers:
                    continue  # reported by check_pair / the calendars section
                can = drivers[calendar.driver].cls.capabilities
                missing = [
                    why
                    for why, lacking in (
                        ("cannot be read", not can.read),
                        ("cannot be written", end in written and not can.write),
                        (
                            "does not keep the uids syncfw writes",
                            end == "target" and not can.client_ids,
                        ),
                    )
                    if lacking
                ]
                if missing:
                    self.error(
                        ("pairs", i, end),
                        f"calendar {calendar.name!r} (driver {calendar.driver!r}) "
                        f"{' and '.join(missing)}, but this pair needs it",
                        "use it on the other side of the pair, or choose another driver",
                    )

    def check_stores(self, raw: Any, calendars: dict[str, CalendarConfig]) -> None:
        """Pairs that would copy a calendar into itself (its own file or folder under another
        name) or run twice (the same source and target), which duplicate every event; and
        targets nested in another pair's (a file inside another pair's folder), which each
        pair would read as its own. Pairs from several sources into one target are fine:
        each owns only the events it wrote."""
        drivers = self.plugins.drivers()

        def where(name: Any) -> str | None:
            calendar = calendars.get(name) if isinstance(name, str) else None
            if calendar is None or calendar.driver not in drivers:
                return None
            return drivers[calendar.driver].cls.location(calendar.options)

        seen: dict[tuple[str, str], int] = {}  # (source, target) location -> line
        for i, spec in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(spec, dict) or spec.get("source") == spec.get("target"):
                continue  # reported by check_pair
            loc: Loc = ("pairs", i, "target")
            source, target = where(spec.get("source")), where(spec.get("target"))
            if source is None or target is None:
                continue
            if _overlap(source, target):
                self.error(
                    loc,
                    f"{spec['target']!r} is where {spec['source']!r} keeps its events "
                    f"({_shown(target)}): every run would copy the calendar into itself",
                    "give the target a file, folder or calendar of its own",
                )
                continue
            twin = seen.get((source, target))
            nested = next((t for _, t in seen if t != target and _overlap(t, target)), None)
            if twin is not None:
                self.error(
                    loc,
                    f"this pair and the pair at line {twin} have the same source and target "
                    f"({_shown(target)}): every event would be written twice",
                    "remove one of the two pairs",
                )
            elif nested is not None:
                self.error(
                    loc,
                    f"the target {_shown(target)} and another pair's target {_shown(nested)} "
                    "hold each other's events: each pair would read the other's as its own",
                    "give each pair a folder or file of its own, side by side",
                )
            else:
                seen[(source, target)] = self.line_for(("pairs", i))

    def check_two_sided(self, spec: dict[str, Any], loc: Loc, policy: str) -> None:
        """Pairs that write back into the source: nothing that cannot be undone on the way back."""
        if spec.get("transforms"):
            hint = "transforms could not be undone on the way back; remove them or use master-push"
            self.error((*loc, "transforms"), f"a {policy} pair cannot have transforms", hint)
        attendees = spec.get("attendees")
        if isinstance(attendees, dict) and attendees.get("fan_out") == "copy":
            hint = "use fan_out: invite, or a master-push pair for the persons' copies"
            self.error((*loc, "attendees", "fan_out"), f"a {policy} pair cannot fan out", hint)


def _overlap(a: str, b: str) -> bool:
    """Two locations share events: the same, or a folder and something inside it."""
    if a == b:
        return True
    if not (a.startswith("file:") and b.startswith("file:")):
        return False
    first, second = Path(a[5:]), Path(b[5:])
    return first in second.parents or second in first.parents


def _shown(location: str) -> str:
    return location[5:] if location.startswith("file:") else location


def _supported() -> str:
    return "supported versions: " + ", ".join(map(str, SUPPORTED_VERSIONS))
