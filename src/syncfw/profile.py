"""Profiles: a YAML file in, validated and typed objects out, ``file:line`` in every error.

The file is parsed with PyYAML's *composer*, not ``safe_load``, because the node tree keeps
the line of every key and list item: a problem found later — by pydantic, by a driver's
options, by a cross-reference between sections — still points at the line to edit. Every
problem of a file is collected and reported at once, one per line, so a user fixes a profile
in one pass instead of one error per run.

``${VAR}`` in a string value is replaced by the environment variable (``$${`` writes a
literal ``${``). A variable that is not set is an error, never an empty string, and error
messages name the variable, never its value: profiles carry passwords this way.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
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
from .model import Person
from .plugins import Plugins, default_plugins

__all__ = [
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
    "load_profile",
]

SUPPORTED_VERSIONS = (1,)
TOP_LEVEL_KEYS = ("calendars", "pairs", "persons", "state", "version")
DEFAULT_POLICIES = ("master-push",)  # used until a plugin registers policies

Loc = tuple[str | int, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"
_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


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
    """How persons reach an event: invited on it, or as a copy in their own calendar."""

    fan_out: Literal["invite", "copy"] = "invite"
    notify: Literal["none", "all", "external"] = "none"
    keep_external: bool = False


class SafetyConfig(_Section):
    """The mass-delete guard: refuse a run deleting more than this share of a target
    (once at least ``min_deletes`` deletes are planned) — usually a read came back empty."""

    max_delete_share: float = Field(default=0.5, gt=0, le=1)
    min_deletes: int = Field(default=10, ge=0)


def _one_key(value: Any) -> Any:
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError("a filter is a mapping with exactly one key, e.g. {type: [appointment]}")
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
    filters: list[Annotated[dict[str, Any], BeforeValidator(_one_key)]] = []
    interval_minutes: int = Field(default=15, ge=1)
    safety: SafetyConfig = SafetyConfig()
    _line: int = PrivateAttr(0)  # private, so a `line:` key in the file stays an error

    @property
    def line(self) -> int:
        """The profile line where this pair starts."""
        return self._line


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
    root = _compose(file, shown)
    return _Loader(file, shown, plugins or default_plugins()).load(root)


def _compose(file: Path, shown: str) -> yaml.MappingNode:
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ProfileError("no such file", file=shown, hint="check the profile's path") from None
    except IsADirectoryError:
        raise ProfileError("is a folder, not a profile", file=shown) from None
    except OSError as exc:
        raise ProfileError(f"cannot read the profile: {exc.strerror}", file=shown) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = raw[: exc.start].count(b"\n") + 1
        raise ProfileError("not UTF-8 text", file=shown, line=where) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        hint = exc.context
        if hint and exc.context_mark and exc.context_mark is not mark:
            hint += f" at line {exc.context_mark.line + 1}"
        if "'\\t'" in (exc.problem or ""):
            hint = "indent with spaces, YAML does not allow tabs"
        line = mark.line + 1 if mark else None
        message = f"invalid YAML: {exc.problem or exc.context}"
        raise ProfileError(message, file=shown, line=line, hint=hint) from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"invalid YAML: {exc}", file=shown) from None
    if root is None:
        raise ProfileError("the profile is empty", file=shown, hint="start with 'version: 1'")
    if not isinstance(root, yaml.MappingNode):
        raise ProfileError(
            "the top level must be a mapping of keys",
            file=shown,
            line=root.start_mark.line + 1,
            hint=f"expected keys: {', '.join(TOP_LEVEL_KEYS)}",
        )
    return root


class _Loader:
    """One load: turns the node tree into plain data, checks it, collects the problems."""

    def __init__(self, file: Path, shown: str, plugins: Plugins) -> None:
        self.file, self.shown, self.plugins = file, shown, plugins
        self.base_dir = file.parent
        self.lines: dict[Loc, int] = {}
        self.problems: list[tuple[int, Loc, str, str | None]] = []
        self.secrets: dict[str, str] = {}  # interpolated value -> variable name
        self.interpolated: set[Loc] = set()
        self.poisoned: set[Loc] = set()  # values left raw after an interpolation error
        self._active: set[int] = set()
        self._scalars = yaml.SafeLoader("")

    # -- problems ---------------------------------------------------------------------------

    def line_for(self, loc: Loc) -> int:
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.lines:
                return self.lines[loc[:n]]
        return 1

    def error(
        self, loc: Loc, message: str, hint: str | None = None, line: int | None = None
    ) -> None:
        if any(loc[:n] in self.poisoned for n in range(len(loc) + 1)) and line is None:
            return  # a follow-up of the missing variable already reported there
        self.problems.append((line or self.line_for(loc), loc, message, hint))

    def raise_problems(self) -> None:
        if not self.problems:
            return
        errors, seen = [], set()
        for line, loc, message, hint in sorted(self.problems, key=lambda p: p[0]):
            if (line, loc, message) in seen:
                continue  # e.g. a duplicate key inside an anchor merged twice
            seen.add((line, loc, message))
            key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
            errors.append(
                ProfileError(
                    self._redact(message),
                    file=self.shown,
                    line=line,
                    key=key or None,
                    hint=self._redact(hint) if hint else None,
                )
            )
        raise errors[0] if len(errors) == 1 else ProfileErrors(errors)

    def _redact(self, text: str) -> str:
        for value, name in sorted(self.secrets.items(), key=lambda s: -len(s[0])):
            if len(value) >= 4:  # shorter values would mangle the text and hide little
                text = text.replace(value, f"${{{name}}}")
        return text

    def pydantic_errors(
        self, exc: ValidationError, base: Loc, data: Any, model: type[BaseModel]
    ) -> None:
        for err in exc.errors(include_url=False):
            rel = _clean_loc(data, err["loc"])
            loc = base + rel
            kind, ctx = err["type"], err.get("ctx") or {}
            if kind == "missing" and rel:
                self.error(loc[:-1], f"missing key {loc[-1]!r}")
            elif kind == "extra_forbidden" and rel:
                where = _model_at(model, err["loc"][:-1])
                hint = _did_you_mean(str(loc[-1]), where.model_fields) if where else None
                self.error(loc, f"unknown key {loc[-1]!r}", hint)
            elif kind == "literal_error":
                choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
                value = "" if loc in self.interpolated else f" {err['input']!r}"
                self.error(loc, f"invalid choice{value}", f"choose one of: {', '.join(choices)}")
            else:
                self.error(loc, str(err["msg"]).removeprefix("Value error, "))

    # -- the node tree ----------------------------------------------------------------------

    def data(self, node: yaml.Node, loc: Loc, skip: frozenset[str] = frozenset()) -> Any:
        if id(node) in self._active:
            self.error(loc, "an alias refers to itself", line=node.start_mark.line + 1)
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, loc, skip)
            if isinstance(node, yaml.SequenceNode):
                items = []
                for i, item in enumerate(node.value):
                    self.lines[(*loc, i)] = item.start_mark.line + 1
                    items.append(self.data(item, (*loc, i)))
                return items
            return self._scalar(node, loc)
        finally:
            self._active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, loc: Loc, skip: frozenset[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(loc, "a key must be a plain word, not a list or mapping", line=line)
                continue
            key = str(key_node.value)
            if key in skip:
                continue
            if key in out:
                first = self.lines[(*loc, key)]
                hint = "YAML would silently keep the last one; remove one"
                self.error(
                    (*loc, key), f"duplicate key {key!r} (first at line {first})", hint, line
                )
                continue
            self.lines[(*loc, key)] = line
            out[key] = self.data(value_node, (*loc, key))
        for merge in merges:  # `<<: *defaults`; keys written out win over merged ones
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    line = source.start_mark.line + 1
                    self.error(loc, "'<<' merges mappings only", line=line)
                    continue
                out.update(self.data(source, loc, skip | frozenset(out)))
        return out

    def _scalar(self, node: yaml.Node, loc: Loc) -> Any:
        try:
            value = self._scalars.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            self.error(loc, str(exc.problem), line=node.start_mark.line + 1)
            return None
        return self._interpolate(value, loc) if isinstance(value, str) else value

    def _interpolate(self, text: str, loc: Loc) -> str:
        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name = match.group(1)
            hint = "write $${ for a literal ${"
            if name is None:
                self.error(loc, "'${' without a closing '}'", hint)
            elif not _VAR_NAME.match(name):
                self.error(loc, f"invalid variable name {name!r} in '${{...}}'", hint)
            elif name not in os.environ:
                hint = f"set it before running syncfw; {hint}"
                self.error(loc, f"environment variable {name!r} is not set", hint)
            else:
                self.interpolated.add(loc)
                self.secrets[os.environ[name]] = name
                return os.environ[name]
            self.poisoned.add(loc)
            return match.group(0)

        return _REF.sub(substitute, text) if "${" in text else text

    # -- the sections -----------------------------------------------------------------------

    def load(self, root: yaml.MappingNode) -> Profile:
        self.lines[()] = root.start_mark.line + 1
        data: dict[str, Any] = self.data(root, ())
        version = data.get("version")
        if "version" not in data:
            self.error((), "missing key 'version'", f"add 'version: 1'; {_supported()}")
        elif version not in SUPPORTED_VERSIONS or isinstance(version, bool):
            self.problems.clear()  # another format: any further complaint would be noise
            self.error(("version",), f"unsupported profile version {version!r}", _supported())
            self.raise_problems()
        for key in data:
            if key not in TOP_LEVEL_KEYS and not key.startswith("x-"):
                hint = _did_you_mean(key, TOP_LEVEL_KEYS) + "; keys starting with 'x-' are ignored"
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
            key_lines=dict(self.lines),
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
                    self.pydantic_errors(exc, loc, options, info.cls.Options)
                    continue
                found[name] = CalendarConfig(name, info.name, validated, self.lines[loc])
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
                self.pydantic_errors(exc, ("persons", i), item, _PersonSpec)
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
            try:
                pair = PairConfig.model_validate(spec)
            except ValidationError as exc:
                self.pydantic_errors(exc, loc, spec, PairConfig)
                continue
            pair._line = self.lines[loc]
            found.append(pair)
        return found

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


def _clean_loc(data: Any, loc: tuple[int | str, ...]) -> Loc:
    """Keep the parts of a pydantic ``loc`` that name keys or items of the data; drop the
    tags it adds for unions and validators, which mean nothing to the user."""
    out: list[str | int] = []
    for i, part in enumerate(loc):
        known = dict(enumerate(data)) if isinstance(data, list) else data
        if isinstance(known, dict) and part in known:
            data = known[part]
        elif i < len(loc) - 1 or not isinstance(part, str):
            continue
        out.append(part)
    return tuple(out)


def _model_at(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model pydantic was validating at ``loc``: its fields are the valid keys there."""
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int) or part not in model.model_fields:
            continue
        model = _first_model(model.model_fields[part].annotation)
    return model


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _first_model(arg)
        if found:
            return found
    return None


def _did_you_mean(key: str, valid: Any) -> str:
    valid = list(valid)
    close = difflib.get_close_matches(key, valid, n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"{guess}valid keys here: {', '.join(valid)}"


def _supported() -> str:
    return "supported versions: " + ", ".join(map(str, SUPPORTED_VERSIONS))
