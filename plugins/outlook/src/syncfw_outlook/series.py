"""A Graph series and its occurrences <-> one syncfw series Event, with overrides and EXDATEs.

Graph keeps a series as a master with a pattern; each occurrence is an item of its own,
``type: occurrence`` while it follows the pattern, ``exception`` once changed, and gone
once cancelled. Reading, the exceptions become the Event's ``overrides`` and the
occurrences the pattern has but Graph no longer lists become its ``exdates``. Writing,
each override is PATCHed onto its occurrence and each EXDATE's occurrence deleted.
Graph has no way to bring a cancelled occurrence back, or to turn an exception into an
occurrence again; a series whose Outlook copy has exceptions or cancellations the
event no longer has is therefore made anew (:func:`stale_exceptions`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from syncfw.model import Change, Event, Window, as_utc
from syncfw.sdk import expand

from .convert import from_graph, marks, original_start

__all__ = ["etag_of", "exception_span", "series_change", "stale_exceptions"]

Json = dict[str, Any]
#: How far past its start a series is looked at when its exceptions are written.
SPAN = timedelta(days=400)


def master_etag(etag: str | None) -> str:
    """The series master's own etag, of an etag a series write returned (``master|...``)."""
    return (etag or "").split("|", 1)[0]


def etag_of(item: Mapping[str, Any]) -> str | None:
    """An item's etag: ``@odata.etag``, or built from its ``changeKey`` (the same value
    Graph puts in the etag) when a response carries only that."""
    etag = item.get("@odata.etag")
    if etag:
        return str(etag)
    change_key = item.get("changeKey")
    return f'W/"{change_key}"' if change_key else None


def series_change(key: str, master: Json, instances: list[Json], window: Window) -> Change:
    """The Change for a series master and its instances in ``window`` (as Graph lists them)."""
    try:
        props = marks(master)
        exceptions = [i for i in instances if i.get("type") == "exception"]
        overrides = [from_graph(i, props=props) for i in exceptions]
        series = from_graph(master, props=props, overrides=overrides)
        exdates = _cancelled(key, series, instances, window)
        event = series.replace(exdates=tuple(exdates)) if exdates else series
    except (KeyError, ValueError, TypeError) as err:
        return Change(key, etag=etag_of(master), error=f"unreadable Outlook series: {err!r}")
    return Change(key, event, _series_etag(master, exceptions, exdates))


def exception_span(event: Event) -> Window:
    """Where a series' exceptions are looked for when it is written."""
    start = as_utc(event.start)
    originals = [as_utc(o.recurrence_id) for o in event.overrides if o.recurrence_id]
    originals += [as_utc(d) for d in event.exdates]
    return Window(start - timedelta(days=1), max([start + SPAN, *originals]) + timedelta(days=2))


def stale_exceptions(event: Event, instances: list[Json], span: Window) -> bool:
    """Whether Outlook's copy has an exception or a cancellation ``event`` does not have."""
    wanted = {as_utc(o.recurrence_id) for o in event.overrides if o.recurrence_id}
    wanted_gone = {as_utc(d) for d in event.exdates}
    for item in instances:
        if item.get("type") == "exception" and original_start(item) not in wanted:
            return True
    pattern_only = event.replace(overrides=(), exdates=())
    return any(as_utc(d) not in wanted_gone for d in _cancelled("", pattern_only, instances, span))


def _cancelled(
    key: str, series: Event, instances: Iterable[Json], window: Window
) -> list[datetime | date]:
    """The occurrences the pattern has in ``window`` that Graph does not list."""
    present = {original_start(i) for i in instances if i.get("originalStart")}
    expected = expand(key, series.replace(overrides=()), start=window.start, end=window.end)
    return [
        i.recurrence_id
        for _, i in expected
        if i.recurrence_id is not None and as_utc(i.recurrence_id) not in present
    ]


def _series_etag(master: Json, exceptions: list[Json], exdates: list[Any]) -> str | None:
    """The master's etag, followed by a digest of its exceptions and cancellations, so an
    edited or cancelled occurrence shows as a change of the series."""
    etag = etag_of(master)
    if not exceptions and not exdates:
        return etag
    parts = sorted(f"{i.get('id')}={etag_of(i)}" for i in exceptions)
    parts += sorted(str(as_utc(d) if isinstance(d, datetime) else d) for d in exdates)
    digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()
    return f"{etag}|{digest}"
