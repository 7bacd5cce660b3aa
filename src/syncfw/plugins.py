"""The plugin manager: builtins, entry points and ``SYNCFW_PLUGINS``, behind one typed facade.

Environment switches:

- ``SYNCFW_DISABLE_PLUGIN_AUTOLOAD=1`` skips installed entry points (builtins stay).
- ``SYNCFW_PLUGINS=pkg.mod,other.mod`` loads extra plugin modules by import name.
- ``SYNCFW_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pluggy

from . import hookspecs
from .errors import SyncfwError

if TYPE_CHECKING:
    import click

    from .driver import Driver
    from .filters import FilterBuilder, TransformBuilder
    from .policies import Policy
    from .report import AppliedChange, RunReport

__all__ = ["DEFAULT_PLUGINS", "DriverInfo", "Plugins"]

log = logging.getLogger(__name__)

DEFAULT_PLUGINS = (
    "syncfw.drivers.ics",
    "syncfw.drivers.memory",
    "syncfw.policies",
    "syncfw.filters",
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
            modname = modname.strip()
            if not self.pm.has_plugin(modname):
                self.pm.register(importlib.import_module(modname), modname)
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

    def drivers(self) -> dict[str, DriverInfo]:
        """Every registered driver by name."""
        if self._drivers is None:
            self.load()
            found: dict[str, DriverInfo] = {}
            hook = self.pm.hook.syncfw_register_drivers
            for impl in reversed(hook.get_hookimpls()):  # registration order
                origin = self._origin(impl.plugin)

                def register(cls: type[Driver], origin: str = origin) -> None:
                    if cls.name in found and found[cls.name].cls is not cls:
                        raise SyncfwError(
                            f"driver {cls.name!r} is registered twice: "
                            f"by {found[cls.name].origin} and by {origin}"
                        )
                    found[cls.name] = DriverInfo(cls, origin)

                impl.function(register=register)
            self._drivers = dict(sorted(found.items()))
        return self._drivers

    def policies(self) -> dict[str, Policy]:
        if self._policies is None:
            self.load()
            found: dict[str, Policy] = {}
            self.pm.hook.syncfw_register_policies(register=lambda p: found.setdefault(p.name, p))
            self._policies = found
        return self._policies

    def filters(self) -> dict[str, FilterBuilder]:
        """Every registered filter builder by the name profiles use in ``filters:``."""
        if self._filters is None:
            found = self._named("syncfw_register_filters", "filter")
            self._filters = cast("dict[str, FilterBuilder]", found)
        return self._filters

    def transforms(self) -> dict[str, TransformBuilder]:
        """Every registered transform builder by the name profiles use in ``transforms:``."""
        if self._transforms is None:
            found = self._named("syncfw_register_transforms", "transform")
            self._transforms = cast("dict[str, TransformBuilder]", found)
        return self._transforms

    def _named(self, hook_name: str, kind: str) -> dict[str, Callable[[Any], Any]]:
        """Call a ``register(name, build)`` hook; one name registered by two plugins is an
        error naming both (the same builder registered twice is not)."""
        self.load()
        found: dict[str, tuple[Callable[[Any], Any], str]] = {}
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():  # builtins first
            origin = self._origin(impl.plugin)

            def register(name: str, build: Callable[[Any], Any], origin: str = origin) -> None:
                if not isinstance(name, str) or not callable(build):
                    raise SyncfwError(
                        f"{origin}: register(name, build) takes a text and a callable"
                    )
                if name in found and found[name][0] is not build:
                    raise SyncfwError(
                        f"{kind} {name!r} is registered twice: by {found[name][1]} and by {origin}"
                    )
                found[name] = (build, origin)

            impl.function(register=register)
        return {name: build for name, (build, _) in sorted(found.items())}

    def add_commands(self, cli: click.Group) -> None:
        self.load()
        self.pm.hook.syncfw_register_commands(cli=cli)

    def change_applied(self, change: AppliedChange) -> None:
        self._observe("syncfw_change_applied", change=change)

    def run_finished(self, report: RunReport) -> None:
        self._observe("syncfw_run_finished", report=report)

    def _observe(self, hook: str, **kwargs: Any) -> None:
        # Observers must not break a sync: report their failures and go on.
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            try:
                impl.function(**kwargs)
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook)


_default: Plugins | None = None


def default_plugins() -> Plugins:
    """The process-wide plugin manager used when none is passed explicitly."""
    global _default
    if _default is None:
        _default = Plugins()
    return _default
