"""The plugin manager: builtins, entry points and ``SYNCFW_PLUGINS``, behind one typed facade.

Environment switches:

- ``SYNCFW_DISABLE_PLUGIN_AUTOLOAD=1`` skips installed entry points (builtins stay).
- ``SYNCFW_PLUGINS=pkg.mod,other.mod`` loads extra plugin modules by import name.
- ``SYNCFW_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import pluggy

from syncfw.errors import SyncfwError
from syncfw.hooks import specs as hookspecs

if TYPE_CHECKING:
    import click

    from syncfw.core.policies import Policy
    from syncfw.core.report import AppliedChange, RunReport
    from syncfw.hooks.filters import FilterBuilder, TransformBuilder
    from syncfw.sdk.driver import Driver

__all__ = ["DEFAULT_PLUGINS", "DriverInfo", "Plugins"]

log = logging.getLogger(__name__)

DEFAULT_PLUGINS = (
    "syncfw.drivers.ics",
    "syncfw.drivers.memory",
    "syncfw.hooks.builtin",
    "syncfw.hooks.filters",
)


@dataclass(frozen=True, slots=True)
class DriverInfo:
    """A registered driver and where it came from ("builtin" or "dist version")."""

    cls: type[Driver]
    origin: str

    @property
    def name(self) -> str:
        return self.cls.name


class Plugins:
    """One method per hook; entry points are loaded on first use."""

    def __init__(self, *, autoload: bool | None = None, extra: Iterable[object] = ()) -> None:
        self.pm = pluggy.PluginManager("syncfw")
        self.pm.add_hookspecs(hookspecs)
        if autoload is None:
            autoload = not os.environ.get("SYNCFW_DISABLE_PLUGIN_AUTOLOAD")
        self._autoload = autoload
        self._extra = list(extra)
        self._loaded = False
        self._drivers: dict[str, DriverInfo] | None = None
        self._policies: dict[str, Policy] | None = None
        self._filters: dict[str, FilterBuilder] | None = None
        self._transforms: dict[str, TransformBuilder] | None = None

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object or module (before first use, or drivers are cached)."""
        self.pm.register(plugin, name)
        self._drivers = self._policies = None
        self._filters = self._transforms = None

    def load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for modname in DEFAULT_PLUGINS:
            self.pm.register(importlib.import_module(modname), modname)
        if self._autoload:
            self.pm.load_setuptools_entrypoints("syncfw")
        for modname in filter(None, os.environ.get("SYNCFW_PLUGINS", "").split(",")):
            module = importlib.import_module(modname.strip())
            if not self.pm.is_registered(module):  # an installed plugin named again: once
                self.pm.register(module, modname.strip())
        for plugin in self._extra:
            self.pm.register(plugin)
        self.pm.check_pending()
        if os.environ.get("SYNCFW_TRACE_PLUGINS"):
            self.pm.trace.root.setwriter(lambda msg: sys.stderr.write(str(msg)))
            self.pm.enable_tracing()

    def _origin(self, plugin: object) -> str:
        for plug, dist in self.pm.list_plugin_distinfo():
            if plug is plugin:
                return f"{dist.project_name} {dist.version}"
        name = self.pm.get_name(plugin) or ""
        return "builtin" if name in DEFAULT_PLUGINS else f"plugin {name}"

    def _origin_of(self, registered: object) -> str:
        """Where a registered driver, policy or builder comes from: the plugin of its
        package (a hook is called once, through pluggy, so the call does not say)."""
        module = getattr(registered, "__module__", None) or type(registered).__module__
        top = module.partition(".")[0]
        if top == "syncfw":
            return "builtin"
        for plugin in self.pm.get_plugins():
            home = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
            if home.partition(".")[0] == top:
                return self._origin(plugin)
        return f"plugin {module}"

    def _registered(self, hook_name: str, kind: str, **extra: Any) -> dict[str, Any]:
        """Call a registration hook through pluggy; ``register(name, thing)`` collects.

        Implementations run in pluggy's order (the latest registered first, tryfirst and
        trylast honoured, wrappers around them); a name two plugins register differently
        is an error naming both, in the order they were registered.
        """
        self.load()
        calls: list[tuple[str, Any]] = []
        getattr(self.pm.hook, hook_name)(register=_Collector(calls, kind, **extra))
        found: dict[str, tuple[Any, str]] = {}
        for name, thing in reversed(calls):  # registration order: builtins first
            origin = self._origin_of(thing)
            if name in found and found[name][0] is not thing:
                raise SyncfwError(
                    f"{kind} {name!r} is registered twice: by {found[name][1]} and by {origin}"
                )
            found[name] = (thing, origin)
        return {name: pair for name, pair in sorted(found.items())}

    def drivers(self) -> dict[str, DriverInfo]:
        """Every registered driver by name."""
        if self._drivers is None:
            found = self._registered("syncfw_register_drivers", "driver", named=True)
            self._drivers = {n: DriverInfo(cls, origin) for n, (cls, origin) in found.items()}
        return self._drivers

    def policies(self) -> dict[str, Policy]:
        if self._policies is None:
            found = self._registered("syncfw_register_policies", "policy", named=True)
            self._policies = {name: policy for name, (policy, _) in found.items()}
        return self._policies

    def filters(self) -> dict[str, FilterBuilder]:
        """Every registered filter builder by the name profiles use in ``filters:``."""
        if self._filters is None:
            found = self._registered("syncfw_register_filters", "filter")
            self._filters = cast("dict[str, FilterBuilder]", {n: b for n, (b, _) in found.items()})
        return self._filters

    def transforms(self) -> dict[str, TransformBuilder]:
        """Every registered transform builder by the name profiles use in ``transforms:``."""
        if self._transforms is None:
            found = self._registered("syncfw_register_transforms", "transform")
            self._transforms = cast(
                "dict[str, TransformBuilder]", {n: b for n, (b, _) in found.items()}
            )
        return self._transforms

    def add_commands(self, cli: click.Group) -> None:
        self.load()
        self.pm.hook.syncfw_register_commands(cli=cli)

    def change_applied(self, change: AppliedChange) -> None:
        self._observe("syncfw_change_applied", change=change)

    def run_finished(self, report: RunReport) -> None:
        self._observe("syncfw_run_finished", report=report)

    def _observe(self, hook_name: str, **kwargs: Any) -> None:
        """Call an observer hook through pluggy. Observers must not break a sync: each
        implementation's failure is logged with its plugin's name and the others run."""
        self.load()
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            if not (impl.hookwrapper or impl.wrapper) and not hasattr(impl.function, _GUARDED):
                impl.function = _guarded(impl.function, impl.plugin_name, hook_name)
        hook(**kwargs)


_GUARDED = "__syncfw_guarded__"


def _guarded(function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception:
            log.exception("plugin %s failed in %s", plugin, hook)
            return None

    setattr(call, _GUARDED, True)
    return call


class _Collector:
    """The ``register`` a registration hook gets: checks its arguments, keeps the calls."""

    def __init__(self, calls: list[tuple[str, Any]], kind: str, *, named: bool = False) -> None:
        self.calls, self.kind, self.named = calls, kind, named

    def __call__(self, *args: Any) -> None:
        if self.named:  # register(cls) / register(policy): the name is its .name
            (thing,) = args
            name = getattr(thing, "name", None)
            if not isinstance(name, str) or not name:
                raise SyncfwError(f"a {self.kind} registered without a name: {thing!r}")
        else:
            if len(args) != 2 or not isinstance(args[0], str) or not callable(args[1]):
                raise SyncfwError(f"register(name, build) takes a text and a callable: {args!r}")
            name, thing = args
        self.calls.append((name, thing))


_default: Plugins | None = None


def default_plugins() -> Plugins:
    """The process-wide plugin manager used when none is passed explicitly."""
    global _default
    if _default is None:
        _default = Plugins()
    return _default
