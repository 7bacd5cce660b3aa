"""``with syncfw.session(profile) as agenda:`` — open-pull on enter, close-push on exit.

The desktop-agenda use: when the agenda opens, the remote calendars' changes are
pulled into it (the remote wins); when it closes, its own creates, edits and
deletions are pushed. The push also runs when the block raises, so nothing done
in the agenda before the error stays unsynced; the block's exception is then the
one that propagates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from syncfw.config.loader import load_profile
from syncfw.config.models import Profile
from syncfw.core.report import RunReport
from syncfw.errors import ProfileError, SessionError
from syncfw.hooks.manager import Plugins
from syncfw.runtime.engine import Engine
from syncfw.sdk.driver import Driver

__all__ = ["Session", "SessionError", "session"]

log = logging.getLogger(__name__)

POLICY = "open-pull-close-push"


class Session:
    """What the ``with`` block gets: the reports so far and the profile's calendars."""

    def __init__(self, engine: Engine, pairs: Sequence[str], opened: RunReport) -> None:
        self.engine, self.pairs, self.opened = engine, tuple(pairs), opened
        self.closed: RunReport | None = None

    @property
    def profile(self) -> Profile:
        return self.engine.profile

    def calendar(self, name: str) -> Driver:
        """The driver of one of the profile's calendars, e.g. to read the local agenda."""
        return self.engine.driver(name)

    def push(self) -> RunReport:
        """Push now (as on close), e.g. after a save; the exit pushes again."""
        return _checked(self.engine.run(self.pairs, phase="close"), "push")


@contextmanager
def session(
    profile: Profile | str | Path,
    pairs: Sequence[str] | None = None,
    *,
    plugins: Plugins | None = None,
) -> Iterator[Session]:
    """Pull the profile's open-pull-close-push pairs, yield, push them (also on errors).

    Raises :class:`SessionError` when a pair's pull fails (the block does not run:
    working on an agenda that missed the remote's changes would push over them),
    or when the push fails after a block that ended normally.
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile, plugins)
    names = list(pairs) if pairs else [p.name for p in profile.pairs if p.policy == POLICY]
    if not names:
        raise ProfileError(
            f"{profile.path}: no pair has policy: {POLICY}",
            hint="a session pulls on enter and pushes on exit; give a pair that policy",
        )
    with Engine(profile, plugins=plugins) as engine:
        opened = _checked(engine.run(names, phase="open"), "pull")
        agenda = Session(engine, names, opened)
        try:
            yield agenda
        except BaseException:
            try:
                agenda.closed = engine.run(names, phase="close")
            except Exception:  # the block's own exception is the one to see
                log.exception("pushing the agenda's changes failed")
            raise
        agenda.closed = _checked(engine.run(names, phase="close"), "push")


def _checked(report: RunReport, what: str) -> RunReport:
    """A pair that did not run is an error; single events that failed are in the report."""
    broken = [p for p in report.pairs if p.error]
    if broken:
        detail = "; ".join(f"{p.name}: {p.error}" for p in broken)
        raise SessionError(f"the session's {what} failed: {detail}", report)
    return report
