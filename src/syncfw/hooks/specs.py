"""Every hook syncfw calls. Plugins implement them with ``@syncfw.hookimpl``.

A plugin is any module or object with hook implementations. syncfw finds them
in three places: its builtins (``syncfw.hooks.manager.DEFAULT_PLUGINS``), the entry
point group ``syncfw`` of installed distributions, and the modules named in
the environment variable ``SYNCFW_PLUGINS`` (comma separated).

None of these hooks is ``firstresult``: every implementation is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from syncfw.markers import hookimpl, hookspec

if TYPE_CHECKING:
    import click

    from syncfw.core.policies import Policy
    from syncfw.core.report import AppliedChange, RunReport
    from syncfw.hooks.filters import FilterBuilder, TransformBuilder
    from syncfw.sdk.driver import Driver

__all__ = ["hookimpl", "hookspec"]  # and the specs below


@hookspec
def syncfw_register_drivers(register: Callable[[type[Driver]], None]) -> None:
    """Register driver classes.

    Called once, when the drivers are first needed. Call ``register(cls)`` for
    each :class:`syncfw.sdk.Driver` subclass the plugin provides; ``cls.name`` is
    the name profiles use in ``driver:``. Two plugins registering the same name
    is an error that names both. The return value is ignored.
    """


@hookspec
def syncfw_register_policies(register: Callable[[Policy], None]) -> None:
    """Register direction policies.

    Called once, when the policies are first needed. Call ``register(policy)``
    for each :class:`syncfw.core.policies.Policy`; ``policy.name`` is what profiles
    use in ``policy:``. The return value is ignored.
    """


@hookspec
def syncfw_register_filters(register: Callable[[str, FilterBuilder], None]) -> None:
    """Register filters: which events of a source a pair syncs.

    Called once, when a profile is loaded. Call ``register(name, build)`` for
    each filter; ``name`` is the key profiles write in ``filters:`` (e.g.
    ``{title: "^Job"}``) and ``build(value)`` turns that key's value into a
    ``Filter``, a callable ``(Event) -> bool`` where True keeps the event.
    ``build`` runs at load time and raises ``ValueError`` or ``TypeError`` with a
    message for the user when the value is unusable; syncfw reports it at the
    profile's line. Two plugins registering one name is an error naming both.
    The return value is ignored.
    """


@hookspec
def syncfw_register_transforms(register: Callable[[str, TransformBuilder], None]) -> None:
    """Register transforms: how a pair's events look in the target.

    Called once, when a profile is loaded. Call ``register(name, build)`` for
    each transform; ``name`` is what profiles write in ``transforms:``, alone
    (``busy-only``, then ``build(None)``) or with a value
    (``{prefix-title: "[Job] "}``, then ``build("[Job] ")``). ``build`` returns a
    ``Transform``, a callable ``(Event) -> Event`` that must be deterministic
    (it runs on every read); it is applied to a series and to each overridden
    instance separately. Errors as for filters; duplicate names are an error.
    The return value is ignored.
    """


@hookspec
def syncfw_register_commands(cli: click.Group) -> None:
    """Add commands or command groups to the ``syncfw`` command line.

    Called once while the CLI is built, with the top-level ``click.Group``; use
    ``cli.add_command(...)``. The return value is ignored.
    """


@hookspec
def syncfw_change_applied(change: AppliedChange) -> None:
    """Observe one change that a run has just applied to a target and recorded.

    Called after the write succeeded and the state holds it, once per created,
    updated or deleted event, with the pair's name, the action, both keys and
    the event as written (None for a delete). Not called for dry runs. An
    exception raised here is logged and does not stop the run. The return value
    is ignored.
    """


@hookspec
def syncfw_run_finished(report: RunReport) -> None:
    """Observe a finished run (not a dry run), with the counts of every pair.

    Called once per ``run``, also when a pair failed or a safety guard stopped
    it (see ``report.pairs[i].error``). The return value is ignored.
    """
