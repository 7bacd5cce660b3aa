"""A YAML file as plain data that remembers where everything came from.

The file is parsed with PyYAML's *composer*, not ``safe_load``, because the node tree keeps
the line of every key and list item: a problem found later — by pydantic, by a driver's
options, by a cross-reference between sections — still points at the line to edit. Problems
are collected, not raised one by one, so a user fixes a file in one pass.

``${VAR}`` in a string value is replaced by the environment variable (``$${`` writes a
literal ``${``). A variable that is not set is an error, never an empty string, and problem
texts never carry an interpolated value: files pass passwords this way, so every value read
from the environment is replaced by its ``${NAME}`` in :meth:`YamlSource.problems`.

The API, used by :mod:`syncfw.config.models`::

    source = YamlSource.read(path, shown, expected_keys=..., empty_hint=...)
    source.data                       # plain dicts, lists and scalars
    source.lines[("pairs", 0)]        # the line of a key or item that is in the file
    source.error(loc, message, hint)  # one more problem, placed by its key path
    source.report_invalid(exc, loc, data, Model)  # a pydantic ValidationError, placed
    source.problems()                 # every problem so far, as ProfileErrors
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from syncfw.errors import ProfileError

__all__ = ["Loc", "YamlSource", "did_you_mean"]

Loc = tuple[str | int, ...]
"""A key path into the data, e.g. ``("pairs", 0, "window")``; ``()`` is the top level."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class YamlSource:
    """One YAML mapping read into plain data, the line of each key, and its problems.

    ``shown`` is the file name as the user gave it, used in every message.
    """

    def __init__(self, root: yaml.MappingNode, shown: str) -> None:
        self.shown = shown
        self._lines: dict[Loc, int] = {(): root.start_mark.line + 1}
        self._problems: list[tuple[int, Loc, str, str | None]] = []
        self._secrets: dict[str, str] = {}  # interpolated value -> variable name
        self._interpolated: set[Loc] = set()
        self._poisoned: set[Loc] = set()  # values left raw after an interpolation error
        self._active: set[int] = set()
        self._scalars = yaml.SafeLoader("")
        self.data: dict[str, Any] = self._data(root, ())

    @classmethod
    def read(
        cls, file: Path, shown: str, *, expected_keys: Sequence[str], empty_hint: str
    ) -> YamlSource:
        """Read ``file``, whose top level must be a mapping. Raises ProfileError when the
        file cannot be read or parsed at all (problems inside it are collected instead);
        ``expected_keys`` and ``empty_hint`` go into the hints of those errors."""
        return cls(_compose(file, shown, expected_keys, empty_hint), shown)

    @property
    def lines(self) -> Mapping[Loc, int]:
        """The line of every key and list item written in the file (merged ones included)."""
        return self._lines

    def is_interpolated(self, loc: Loc) -> bool:
        """Whether the value at ``loc`` came from ``${VAR}``: never echo it back."""
        return loc in self._interpolated

    # -- problems ---------------------------------------------------------------------------

    def line_for(self, loc: Loc) -> int:
        """The line of ``loc``, or of its nearest enclosing key that is in the file."""
        for n in range(len(loc), -1, -1):
            if loc[:n] in self._lines:
                return self._lines[loc[:n]]
        return 1

    def error(
        self, loc: Loc, message: str, hint: str | None = None, line: int | None = None
    ) -> None:
        """Record a problem at ``loc`` (on ``line``, else the line of ``loc``)."""
        if any(loc[:n] in self._poisoned for n in range(len(loc) + 1)) and line is None:
            return  # a follow-up of the missing variable already reported there
        self._problems.append((line or self.line_for(loc), loc, message, hint))

    def clear_problems(self) -> None:
        """Forget the problems so far, e.g. once the file turns out to be another format."""
        self._problems.clear()

    def problems(self) -> list[ProfileError]:
        """Every problem by line, duplicates dropped, secrets replaced by ``${NAME}``."""
        errors, seen = [], set()
        for line, loc, message, hint in sorted(self._problems, key=lambda p: p[0]):
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
        return errors

    def report_invalid(
        self, exc: ValidationError, base: Loc, data: Any, model: type[BaseModel]
    ) -> None:
        """Record pydantic's complaints about ``data`` (found at ``base``, validated as
        ``model``) as problems on the lines of the keys they are about."""
        for err in exc.errors(include_url=False):
            rel = _clean_loc(data, err["loc"])
            loc = base + rel
            kind, ctx = err["type"], err.get("ctx") or {}
            if kind == "missing" and rel:
                self.error(loc[:-1], f"missing key {loc[-1]!r}")
            elif kind == "extra_forbidden" and rel:
                where = _model_at(model, err["loc"][:-1])
                hint = did_you_mean(str(loc[-1]), where.model_fields) if where else None
                self.error(loc, f"unknown key {loc[-1]!r}", hint)
            elif kind == "literal_error":
                choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
                value = "" if loc in self._interpolated else f" {err['input']!r}"
                self.error(loc, f"invalid choice{value}", f"choose one of: {', '.join(choices)}")
            else:
                self.error(loc, str(err["msg"]).removeprefix("Value error, "))

    def _redact(self, text: str) -> str:
        for value, name in sorted(self._secrets.items(), key=lambda s: -len(s[0])):
            if len(value) >= 4:  # shorter values would mangle the text and hide little
                text = text.replace(value, f"${{{name}}}")
        return text

    # -- the node tree ----------------------------------------------------------------------

    def _data(self, node: yaml.Node, loc: Loc, skip: frozenset[str] = frozenset()) -> Any:
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
                    self._lines[(*loc, i)] = item.start_mark.line + 1
                    items.append(self._data(item, (*loc, i)))
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
                first = self._lines[(*loc, key)]
                hint = "YAML would silently keep the last one; remove one"
                self.error(
                    (*loc, key), f"duplicate key {key!r} (first at line {first})", hint, line
                )
                continue
            self._lines[(*loc, key)] = line
            out[key] = self._data(value_node, (*loc, key))
        for merge in merges:  # `<<: *defaults`; keys written out win over merged ones
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    line = source.start_mark.line + 1
                    self.error(loc, "'<<' merges mappings only", line=line)
                    continue
                out.update(self._data(source, loc, skip | frozenset(out)))
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
                self._interpolated.add(loc)
                self._secrets[os.environ[name]] = name
                return os.environ[name]
            self._poisoned.add(loc)
            return match.group(0)

        return _REF.sub(substitute, text) if "${" in text else text


def _compose(
    file: Path, shown: str, expected_keys: Sequence[str], empty_hint: str
) -> yaml.MappingNode:
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
        raise ProfileError("the profile is empty", file=shown, hint=empty_hint)
    if not isinstance(root, yaml.MappingNode):
        raise ProfileError(
            "the top level must be a mapping of keys",
            file=shown,
            line=root.start_mark.line + 1,
            hint=f"expected keys: {', '.join(expected_keys)}",
        )
    return root


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


def did_you_mean(key: str, valid: Any) -> str:
    """A hint for an unknown ``key``: the closest of the ``valid`` keys, then all of them."""
    valid = list(valid)
    close = difflib.get_close_matches(key, valid, n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"{guess}valid keys here: {', '.join(valid)}"
