"""The ``syncfw`` command line.

Exit codes: 0 ok; 1 some events (or a pair) failed while the rest synced;
2 usage or profile error; 3 stopped by a safety guard.

SIGINT (Ctrl-C) and SIGTERM stop ``run`` and ``serve`` gracefully: the first ends
the sync after the write batch in flight, with its bookkeeping done; a second one
exits at once. That is safe too - every batch is recorded as it lands and the next
run adopts what a cut batch wrote - it only skips recording the batch in flight.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from syncfw import __version__
from syncfw.config.loader import load_profile
from syncfw.config.models import Profile
from syncfw.core.policies import Phase
from syncfw.core.report import RunReport
from syncfw.errors import ProfileError, StateError, SyncfwError
from syncfw.hooks.manager import default_plugins
from syncfw.runtime.engine import Engine
from syncfw.runtime.serve import PairRun, Scheduler
from syncfw.runtime.state import State

__all__ = ["cli", "main"]

EXIT_PROFILE = 2

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

profile_argument = click.argument(
    "profile", type=click.Path(dir_okay=False, path_type=Path), metavar="PROFILE"
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
phase_option = click.option(
    "--phase",
    type=click.Choice(["open", "close"]),
    help="For open-pull-close-push pairs: open pulls the remote's changes (the remote "
    "wins), close pushes local ones. Default: both, open first.",
)


def _load(path: Path) -> Profile:
    try:
        return load_profile(path)
    except ProfileError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(EXIT_PROFILE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="syncfw")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Keep calendars in sync: job calendar, Google, Outlook, CalDAV, .ics files."""
    # serve is a long-running process: its log (one line per run) is its output.
    serving = ctx.invoked_subcommand == "serve"
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose + serving, 2)]
    fmt = "syncfw: %(levelname)s: %(message)s"
    logging.basicConfig(
        level=level, format=f"%(asctime)s {fmt}" if serving else fmt, datefmt="%Y-%m-%d %H:%M:%S"
    )


@cli.command()
@profile_argument
@click.option("--pair", "pairs", multiple=True, metavar="NAME", help="Only this pair (repeatable).")
@click.option("--dry-run", is_flag=True, help="Plan and report, change nothing.")
@click.option("--force", is_flag=True, help="Go on where a safety guard would stop.")
@phase_option
@json_option
def run(
    profile: Path,
    pairs: tuple[str, ...],
    dry_run: bool,
    force: bool,
    phase: Phase | None,
    as_json: bool,
) -> None:
    """Sync the pairs of PROFILE once."""
    report = _run(profile, pairs, dry_run=dry_run, force=force, as_json=as_json, phase=phase)
    if as_json:
        click.echo(json.dumps(report.as_dict(), default=str))
    else:
        _print_report(report)
    sys.exit(report.exit_code)


@cli.command()
@profile_argument
@click.option("--pair", "pairs", multiple=True, metavar="NAME", help="Only this pair (repeatable).")
@phase_option
@json_option
def plan(profile: Path, pairs: tuple[str, ...], phase: Phase | None, as_json: bool) -> None:
    """Show what a run of PROFILE would change, without changing anything."""
    report = _run(profile, pairs, dry_run=True, force=False, as_json=as_json, phase=phase)
    if as_json:
        click.echo(json.dumps(report.as_dict(), default=str))
        sys.exit(report.exit_code)
    for pair in report.pairs:
        table = Table(title=f"{pair.name}: planned changes", title_justify="left")
        for column in ("action", "in", "event", "key"):
            table.add_column(column)
        for op in pair.planned:
            table.add_row(op["action"], op["side"], op["title"], op["key"])
        if pair.planned:
            out.print(table)
    _print_report(report)
    sys.exit(report.exit_code)


def _run(
    path: Path,
    pairs: tuple[str, ...],
    *,
    dry_run: bool,
    force: bool,
    as_json: bool,
    phase: Phase | None = None,
) -> RunReport:
    profile = _load(path)
    try:
        with Engine(profile) as engine, _progress(enabled=not as_json) as progress:
            if dry_run:  # writes nothing, so nothing to finish: Ctrl-C just aborts
                return engine.run(
                    pairs or None, dry_run=True, force=force, progress=progress, phase=phase
                )
            with _stop_on_signals(engine.request_stop) as received:
                report = engine.run(pairs or None, force=force, progress=progress, phase=phase)
            if received:
                err.print(
                    f"[yellow]stopped:[/] {received[0]}: the run ended after the changes in "
                    "flight and recorded them; run again to continue",
                    highlight=False,
                )
            return report
    except ProfileError as exc:  # e.g. --pair names no pair of the profile
        err.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(EXIT_PROFILE)
    except StateError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(1)


@contextmanager
def _stop_on_signals(request_stop: Callable[[], None]) -> Iterator[list[str]]:
    """While inside: the first SIGINT/SIGTERM calls ``request_stop``, a second exits now.

    Yields the names of the signals received (empty if none). Outside the main
    thread (where Python cannot install handlers) it changes nothing.
    """
    received: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if received:  # os._exit: no cleanup that could hang; the state is safe as on a kill
            os.write(2, f"syncfw: {name} again: exiting now\n".encode())
            os._exit(128 + signum)
        received.append(name)
        # os.write, not the console or logging: their locks may be held by the code
        # this handler interrupted.
        os.write(
            2,
            f"syncfw: {name}: stopping after the changes in flight "
            "(Ctrl-C again to quit at once)\n".encode(),
        )
        request_stop()

    watched = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, handler) for signum in watched}
    try:
        yield received
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Any]:
    """A progress bar per pair while writes are applied, on a terminal only."""
    if not enabled or not err.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(pair: str, done: int, total: int) -> None:
        if pair not in tasks:
            tasks[pair] = bar.add_task(pair, total=total)
        bar.update(tasks[pair], completed=done, total=total)

    with bar:
        yield update


def _print_report(report: RunReport) -> None:
    if not out.is_terminal:  # a pipe or a log file: no need to squeeze into 80 columns
        out.width = max(out.width, 120)
    title = "dry run: nothing was changed" if report.dry_run else "sync finished"
    table = Table(title=title, title_justify="left")
    for column in ("pair", "created", "updated", "deleted", "unchanged", "failed"):
        if column == "pair":
            table.add_column(column, no_wrap=True)
        else:
            table.add_column(column, justify="right", no_wrap=True)
    for pair in report.pairs:
        table.add_row(
            pair.name,
            str(pair.created),
            str(pair.updated),
            str(pair.deleted),
            str(pair.unchanged),
            str(pair.failed),
        )
    out.print(table)
    for pair in report.pairs:
        if not (pair.changed or pair.failed or pair.error):
            out.print(f"{pair.name}: nothing to do")
        for note in pair.notes:
            err.print(f"[cyan]note:[/] {pair.name}: {note}", highlight=False, markup=True)
        for failure in pair.failures:
            name = (
                failure.key
                if failure.title == failure.key
                else f"{failure.title!r} ({failure.key})"
            )
            err.print(
                f"[yellow]failed:[/] {pair.name}: {failure.calendar}: {name}: {failure.message}",
                highlight=False,
                markup=True,
            )
        if pair.error:
            label = "stopped" if pair.stopped_by_guard else "error"
            err.print(f"[red]{label}:[/] {pair.error}", highlight=False)


@cli.command()
@profile_argument
@click.option("--pair", "pairs", multiple=True, metavar="NAME", help="Only this pair (repeatable).")
@click.option("--once", is_flag=True, help="Run every pair once, then exit (for cron).")
def serve(profile: Path, pairs: tuple[str, ...], once: bool) -> None:
    """Sync each pair of PROFILE every interval_minutes, until Ctrl-C or SIGTERM.

    Logs one line per run. The profile is read once: restart after editing it.
    """
    loaded = _load(profile)
    plugins = default_plugins()
    try:
        scheduler = Scheduler(loaded, lambda: Engine(loaded, plugins=plugins), pairs=pairs)
        State(loaded.state_path).close()  # an unusable state file fails now, not every run
    except ProfileError as exc:  # --pair names no pair of the profile
        err.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(EXIT_PROFILE)
    except StateError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    with _stop_on_signals(scheduler.stop):
        if once:
            runs = scheduler.run_once()
        else:
            scheduler.serve()
    sys.exit(0 if not once or scheduler.stopping else _once_exit_code(runs))


def _once_exit_code(runs: list[PairRun]) -> int:
    """Like ``run``, except that a pair another process is syncing is no failure."""
    if any(r.status == "guard" for r in runs):
        return 3
    return 1 if any(r.status in ("partial", "error", "interrupted") for r in runs) else 0


@cli.command()
@profile_argument
@json_option
def status(profile: Path, as_json: bool) -> None:
    """Show the last run of each pair, what it synced, and the stored cursors."""
    loaded = _load(profile)
    if not loaded.state_path.exists():
        data: dict[str, Any] = {"state": str(loaded.state_path), "pairs": [], "cursors": []}
    else:
        with State(loaded.state_path) as state:
            runs, counts = state.last_runs(), state.mapping_counts()
            data = {
                "state": str(loaded.state_path),
                "pairs": [
                    {
                        "name": p.name,
                        "synced": counts.get(p.name, 0),
                        "last_run": asdict(runs[p.name]) if p.name in runs else None,
                    }
                    for p in loaded.pairs
                ],
                "cursors": [
                    {"pair": pair, "calendar": cal, "cursor": cursor}
                    for pair, cal, cursor in state.cursors()
                ],
            }
    if as_json:
        click.echo(json.dumps(data))
        return
    table = Table(title=f"state: {data['state']}", title_justify="left")
    for column in (
        "pair",
        "synced",
        "last run",
        "status",
        "created",
        "updated",
        "deleted",
        "failed",
    ):
        table.add_column(column)
    for pair in data["pairs"]:
        last = pair["last_run"] or {}
        table.add_row(
            pair["name"],
            str(pair["synced"]),
            last.get("finished_at") or "never",
            last.get("status", "-"),
            *(str(last.get(k, "-")) for k in ("created", "updated", "deleted", "failed")),
        )
    out.print(table)
    for cursor in data["cursors"]:
        shown = cursor["cursor"] if cursor["cursor"] else "(none: full read next time)"
        out.print(f"cursor {cursor['pair']} / {cursor['calendar']}: {shown}", highlight=False)


@cli.command()
@profile_argument
def validate(profile: Path) -> None:
    """Check PROFILE and say what is wrong, with file:line."""
    loaded = _load(profile)
    out.print(
        f"{profile}: ok — {len(loaded.calendars)} calendars, {len(loaded.pairs)} pairs",
        highlight=False,
    )


@cli.command()
@json_option
def drivers(as_json: bool) -> None:
    """List the installed drivers and where each comes from."""
    found = default_plugins().drivers()
    if as_json:
        click.echo(json.dumps([{"name": n, "origin": i.origin} for n, i in found.items()]))
        return
    table = Table()
    table.add_column("driver")
    table.add_column("from")
    table.add_column("summary")
    for name, info in found.items():
        summary = (info.cls.__doc__ or "").strip().splitlines()[0] if info.cls.__doc__ else ""
        table.add_row(name, info.origin, summary)
    out.print(table)


def main() -> None:
    try:
        default_plugins().add_commands(cli)
    except SyncfwError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(EXIT_PROFILE)
    cli(prog_name="syncfw")
