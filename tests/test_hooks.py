"""Every hook, called through pluggy: one test per hook, and what pluggy promises for all.

Each ``test_hook_<name>`` shows what a plugin implementing that hook gets; the rest show
that tracing, wrappers and ordering behave the same for every hook, because syncfw calls
each through pluggy rather than its implementations one by one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

import syncfw
from syncfw import AppliedChange, Plugins, RunReport, SyncfwError, hookimpl
from syncfw.core.master_push import MasterPush
from syncfw.drivers.memory import MemoryStore
from syncfw.model import Event, Window, WriteOp
from syncfw.sdk import Capabilities, Cursor, Driver, Feed, WriteResult

from .conftest import event


class Nowhere(Driver):
    """A driver a plugin registers (reads nothing, writes nothing)."""

    name = "nowhere"
    capabilities = Capabilities(write=False)

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        return Feed((), full=True)

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        return iter(())


def run_with(profile: Path, *plugins: object) -> RunReport:
    return syncfw.run(profile, plugins=Plugins(extra=list(plugins)))


# ------------------------------------------------------------------ one test per hook


def test_hook_syncfw_register_drivers() -> None:
    class Plugin:
        @hookimpl
        def syncfw_register_drivers(self, register: Callable[[type[Driver]], None]) -> None:
            register(Nowhere)

    drivers = Plugins(extra=[Plugin()]).drivers()
    assert drivers["nowhere"].cls is Nowhere
    assert drivers["ics"].origin == "builtin"


def test_hook_syncfw_register_policies(memory_pair: Path) -> None:
    class Cautious(MasterPush):
        name = "cautious"

    class Plugin:
        @hookimpl
        def syncfw_register_policies(self, register: Callable[[Any], None]) -> None:
            register(Cautious())

    plugins = Plugins(extra=[Plugin()])
    assert isinstance(plugins.policies()["cautious"], Cautious)
    assert {"master-push", "two-way", "open-pull-close-push"} <= set(plugins.policies())


def test_hook_syncfw_register_filters() -> None:
    def build(argument: Any) -> Callable[[Event], bool]:
        return lambda e: e.title.startswith(str(argument))

    class Plugin:
        @hookimpl
        def syncfw_register_filters(self, register: Callable[[str, Any], None]) -> None:
            register("starts-with", build)

    filters = Plugins(extra=[Plugin()]).filters()
    assert filters["starts-with"] is build and "title" in filters


def test_hook_syncfw_register_transforms() -> None:
    def build(argument: Any) -> Callable[[Event], Event]:
        return lambda e: e.replace(title=e.title.upper())

    class Plugin:
        @hookimpl
        def syncfw_register_transforms(self, register: Callable[[str, Any], None]) -> None:
            register("shout", build)

    transforms = Plugins(extra=[Plugin()]).transforms()
    assert transforms["shout"] is build and "busy-only" in transforms


def test_hook_syncfw_register_commands() -> None:
    class Plugin:
        @hookimpl
        def syncfw_register_commands(self, cli: click.Group) -> None:
            @cli.command("hello")
            def hello() -> None:
                click.echo("hello from a plugin")

    @click.group()
    def root() -> None:
        pass

    Plugins(extra=[Plugin()]).add_commands(root)
    assert CliRunner().invoke(root, ["hello"]).output == "hello from a plugin\n"


def test_hook_syncfw_change_applied(memory_pair: Path) -> None:
    seen: list[tuple[str, str]] = []

    class Plugin:
        @hookimpl
        def syncfw_change_applied(self, change: AppliedChange) -> None:
            seen.append((change.action, change.source_key))

    MemoryStore.named("src").put(event("a"))
    run_with(memory_pair, Plugin())
    assert seen == [("create", "a")]


def test_hook_syncfw_run_finished(memory_pair: Path) -> None:
    finished: list[RunReport] = []

    class Plugin:
        @hookimpl
        def syncfw_run_finished(self, report: RunReport) -> None:
            finished.append(report)

    MemoryStore.named("src").put(event("a"))
    report = run_with(memory_pair, Plugin())
    assert finished == [report] and report.pairs[0].created == 1


# ------------------------------------------------------------------ what pluggy gives every hook


def test_every_hook_call_of_a_run_is_traced(
    write_profile: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    profile = write_profile(
        """
        version: 1
        calendars:
          src: {driver: memory, name: src}
          dst: {driver: memory, name: dst}
        pairs:
          - {name: push, source: src, target: dst, filters: [{title: A}],
             transforms: [prefix-title: "job: "]}
        """
    )
    monkeypatch.setenv("SYNCFW_TRACE_PLUGINS", "1")
    MemoryStore.named("src").put(event("a", "A"))
    assert run_with(profile).pairs[0].created == 1
    traced = capsys.readouterr().err
    for hook in (
        "syncfw_register_drivers",
        "syncfw_register_policies",
        "syncfw_register_filters",
        "syncfw_register_transforms",
        "syncfw_change_applied",
        "syncfw_run_finished",
    ):
        assert f"{hook} [hook]" in traced, hook


def test_a_wrapper_sees_every_hook_it_wraps(memory_pair: Path) -> None:
    wrapped: list[str] = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def syncfw_register_drivers(self, register: Any) -> Generator[None, Any, Any]:
            wrapped.append("drivers")
            return (yield)

        @hookimpl(wrapper=True)
        def syncfw_change_applied(self, change: AppliedChange) -> Generator[None, Any, Any]:
            wrapped.append(f"change {change.source_key}")
            return (yield)

        @hookimpl(wrapper=True)
        def syncfw_run_finished(self, report: RunReport) -> Generator[None, Any, Any]:
            wrapped.append("finished")
            return (yield)

    MemoryStore.named("src").put(event("a"))
    run_with(memory_pair, Wrapper())
    assert wrapped == ["drivers", "change a", "finished"]


def test_tryfirst_and_trylast_order_the_implementations(memory_pair: Path) -> None:
    order: list[str] = []

    class Early:
        @hookimpl(tryfirst=True)
        def syncfw_run_finished(self, report: RunReport) -> None:
            order.append("early")

    class Late:
        @hookimpl(trylast=True)
        def syncfw_run_finished(self, report: RunReport) -> None:
            order.append("late")

    class Plain:
        @hookimpl
        def syncfw_run_finished(self, report: RunReport) -> None:
            order.append("plain")

    run_with(memory_pair, Late(), Plain(), Early())
    assert order == ["early", "plain", "late"]


def test_a_failing_observer_is_logged_by_name_and_the_others_still_run(
    memory_pair: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    class Broken:
        @hookimpl(tryfirst=True)
        def syncfw_change_applied(self, change: AppliedChange) -> None:
            raise RuntimeError("a bug in a plugin")

    class Fine:
        @hookimpl
        def syncfw_change_applied(self, change: AppliedChange) -> None:
            seen.append(change.source_key)

    MemoryStore.named("src").put(event("a"))
    broken = Broken()
    plugins = Plugins(extra=[broken, Fine()])
    with caplog.at_level(logging.ERROR):
        report = syncfw.run(memory_pair, plugins=plugins)
    assert report.pairs[0].created == 1 and seen == ["a"]
    name = plugins.pm.get_name(broken)
    assert f"plugin {name} failed in syncfw_change_applied" in caplog.text
    assert "a bug in a plugin" in caplog.text


def test_a_policy_name_registered_twice_is_an_error_naming_both() -> None:
    class Impostor(MasterPush):
        pass  # name "master-push", like the builtin

    class Plugin:
        @hookimpl
        def syncfw_register_policies(self, register: Callable[[Any], None]) -> None:
            register(Impostor())

    with pytest.raises(SyncfwError, match="policy 'master-push' is registered twice: by builtin"):
        Plugins(extra=[Plugin()]).policies()


def test_a_driver_without_a_name_is_refused() -> None:
    class Nameless(Nowhere):
        name = ""

    class Plugin:
        @hookimpl
        def syncfw_register_drivers(self, register: Callable[[type[Driver]], None]) -> None:
            register(Nameless)

    with pytest.raises(SyncfwError, match="a driver registered without a name"):
        Plugins(extra=[Plugin()]).drivers()


def test_a_plugin_named_in_syncfw_plugins_and_installed_is_loaded_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("syncfw_jobcal", reason="make test installs the jobcal plugin")
    monkeypatch.delenv("SYNCFW_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.setenv("SYNCFW_PLUGINS", "syncfw_jobcal.plugin, syncfw.drivers.ics")
    drivers = Plugins(autoload=True).drivers()  # entry point and SYNCFW_PLUGINS: one module
    assert drivers["jobcal"].origin.startswith("syncfw-jobcal ")
    assert drivers["ics"].origin == "builtin"
