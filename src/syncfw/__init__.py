"""syncfw: keep a job calendar, Google Calendar, Outlook and CalDAV calendars in sync.

The library surface is this module: load a profile, run it, observe it.

    >>> import syncfw
    >>> report = syncfw.run("examples/demo.yaml")          # doctest: +SKIP
    >>> report.exit_code, report.pairs[0].created          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from syncfw.config.loader import load_profile
from syncfw.config.models import Profile
from syncfw.core.policies import Phase
from syncfw.core.report import AppliedChange, PairReport, RunReport
from syncfw.errors import (
    AuthError,
    DriverError,
    ProfileError,
    SafetyStop,
    SessionError,
    SyncfwError,
)
from syncfw.hooks.manager import Plugins
from syncfw.markers import hookimpl
from syncfw.model import Attendee, Change, Event, Person, Window
from syncfw.runtime.engine import Engine
from syncfw.runtime.session import Session, session

# What a user of the library needs. Driver authors import from syncfw.sdk; every
# exception is in syncfw.errors, the report values in syncfw.core.report.
__all__ = [
    "AppliedChange",
    "Attendee",
    "AuthError",
    "Change",
    "DriverError",
    "Engine",
    "Event",
    "PairReport",
    "Person",
    "Plugins",
    "Profile",
    "ProfileError",
    "RunReport",
    "SafetyStop",
    "Session",
    "SessionError",
    "SyncfwError",
    "Window",
    "hookimpl",
    "load_profile",
    "run",
    "session",
]

__version__ = "0.1.0"


def run(
    profile: Profile | str | Path,
    pairs: Sequence[str] | None = None,
    *,
    dry_run: bool = False,
    force: bool = False,
    plugins: Plugins | None = None,
    phase: Phase | None = None,
) -> RunReport:
    """Load a profile (unless given one), sync its pairs once, and report.

    Raises :class:`ProfileError` for a bad profile; failures of single events or
    pairs are in the report (``report.exit_code`` is what the CLI would exit with).
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile, plugins)
    with Engine(profile, plugins=plugins) as engine:
        return engine.run(pairs, dry_run=dry_run, force=force, phase=phase)
