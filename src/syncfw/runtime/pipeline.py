"""From one source event to the target items of a pair, as the pair's settings say.

In order: attendees normalized per person (the directory); a series expanded to
its instances up to the horizon (unless the pair keeps series, the target stores
them natively, and the filters judge every exception as they judge the series);
then per item the pair's filters (all must keep it) and its transforms. The result
feeds the policy (see ``policies.Normalize``); :func:`finisher` gives the policy the
matching ``Finish`` step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from syncfw.core import attendees
from syncfw.core.policies import Admit, Finish, Normalize
from syncfw.core.recurrence import expand
from syncfw.hooks.filters import admit_categories, build_filters, build_transforms
from syncfw.hooks.manager import Plugins
from syncfw.model import Attendee, Event, Window, as_utc
from syncfw.sdk.driver import Capabilities

if TYPE_CHECKING:
    from syncfw.config.models import PairConfig

__all__ = ["admitter", "finisher", "normalizer", "whole_events"]


def normalizer(
    config: PairConfig,
    *,
    directory: attendees.Directory,
    plugins: Plugins,
    target: Capabilities,
    window: Window,
    now: datetime,
    series_problem: Callable[[Event], str | None] | None = None,
    notes: set[str] | None = None,
) -> Normalize:
    """The pair's steps for one source event; ``series_problem`` (the target driver's) may
    refuse a series, which is then expanded, with a line in ``notes`` that says why."""
    keep = build_filters(config.filters, plugins)
    transforms = build_transforms(config.transforms, plugins)
    # Whole days, like the window: an instance late on the last day does not flicker.
    today = as_utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    until = min(window.end, today + timedelta(days=config.recurrence.horizon_days + 1))
    series = config.recurrence.mode == "series" and target.native_recurrence

    def kept(event: Event) -> bool:
        return all(accept(event) for accept in keep)

    def shaped(event: Event) -> Event:
        for transform in transforms:
            event = transform(event)
        return event

    def normalize(key: str, event: Event) -> Iterable[tuple[str, Event]]:
        event = attendees.normalize(event, directory)
        if not event.recurring:
            return ((key, shaped(event)),) if kept(event) else ()
        whole = kept(event)
        if series and all(kept(o) == whole for o in event.overrides):
            problem = series_problem(event) if series_problem and whole else None
            if problem is None:
                return ((key, shaped(event)),) if whole else ()
            if notes is not None:
                notes.add(f"{event.title!r} ({key}) written as single events: {problem}")
        # Each instance on its own: a moved or retitled instance may pass where the
        # series does not, or the other way round (an instance given to someone else).
        instances = expand(key, event, start=window.start, end=until)
        return [(k, shaped(instance)) for k, instance in instances if kept(instance)]

    return normalize


def whole_events(
    config: PairConfig, *, directory: attendees.Directory, plugins: Plugins
) -> Normalize:
    """For pairs that write both ways: an event stays whole (a series is one item), its
    attendees normalized per person, kept or left out by the pair's filters. No
    transforms: they could not be undone on the way back (the profile refuses them)."""
    keep = build_filters(config.filters, plugins)

    def normalize(key: str, event: Event) -> Iterable[tuple[str, Event]]:
        event = attendees.normalize(event, directory)
        return ((key, event),) if all(accept(event) for accept in keep) else ()

    return normalize


def admitter(config: PairConfig) -> Admit:
    """What an event written into the source gets so the pair's filters keep it."""
    return admit_categories(config.filters)


def finisher(config: PairConfig, directory: attendees.Directory) -> Finish:
    keep_external = config.attendees.keep_external

    def finish(
        event: Event, seen: tuple[Attendee, ...], /, *, source: tuple[Attendee, ...] = ()
    ) -> Event:
        return attendees.merge_seen(
            event, seen, directory, keep_external=keep_external, source=source
        )

    return finish
