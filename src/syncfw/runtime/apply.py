"""Applying a plan: writes in batches, each batch recorded as soon as the target confirms it.

Also the safety guard that runs before anything is applied.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from syncfw.core.attendees import dump_attendees
from syncfw.core.policies import Plan, PlannedOp
from syncfw.core.report import AppliedChange, Failure, PairReport
from syncfw.errors import DriverError, Interrupted, NotFound, PreconditionFailed, SafetyStop
from syncfw.hooks.manager import Plugins
from syncfw.model import Link
from syncfw.runtime.state import State
from syncfw.sdk.driver import Driver, WriteResult

if TYPE_CHECKING:
    from collections.abc import Iterator

    from syncfw.config.models import PairConfig
    from syncfw.runtime.engine import Progress

__all__ = ["Applier", "check_guard"]


def check_guard(config: PairConfig, plan: Plan, force: bool) -> None:
    """Stop a pair that would delete, or write anew, much of what it synced."""
    share, least = config.safety.max_delete_share, config.safety.min_deletes
    limit = share * plan.synced
    deletes = plan.count("delete")
    if not force and deletes > limit and deletes >= least:
        raise SafetyStop(
            config.name,
            f"the run would delete {deletes} of the {plan.synced} events it synced, more "
            f"than {share:.0%}. Nothing was changed. If the source really lost them, run "
            f"again with --force; if a read came back empty by mistake, fix the source "
            f"calendar '{config.source}' first.",
        )
    if not force and plan.recreates > limit and plan.recreates >= least:
        raise SafetyStop(
            config.name,
            f"the target calendar '{config.target}' no longer has {plan.recreates} of the "
            f"{plan.synced} events syncfw wrote there, more than {share:.0%}: deleted by "
            f"hand, or a read came back empty. Nothing was changed. To write them again, "
            f"run with --force.",
        )


class Applier:
    """Sends a pair's planned ops to its target and records what went through."""

    def __init__(self, state: State, plugins: Plugins, stop: threading.Event) -> None:
        self.state, self.plugins, self.stop = state, plugins, stop

    def apply(
        self,
        name: str,
        target: Driver,
        ops: list[PlannedOp],
        report: PairReport,
        progress: Progress | None,
    ) -> dict[str, str | None]:
        """Write ``ops``; returns the keys written, each with its new etag (None: deleted)."""
        batch = max(1, target.capabilities.batch_size)
        written: dict[str, str | None] = {}
        total, done = len(ops), 0
        if progress:
            progress(name, 0, total)
        retries: list[PlannedOp] = []
        for chunk in itertools.chain(_chunks(ops, batch), _chunks(retries, batch)):
            if self.stop.is_set():
                raise Interrupted(
                    f"pair {name!r}: stopped on request after {done} of {total} "
                    "changes; the next run continues"
                )
            outcome: list[tuple[PlannedOp, WriteResult]] = []
            error: DriverError | None = None
            try:
                outcome.extend(zip(chunk, target.write([p.op for p in chunk]), strict=True))
            except DriverError as exc:  # auth, quota: record what went through, then stop
                error = exc
            applied = self._record(name, target.context.calendar, outcome, report, retries)
            for change in applied:
                self.plugins.change_applied(change)
            for planned, result in outcome:
                if result.ok:
                    deleted = planned.op.action == "delete"
                    written[result.key or planned.op.key or ""] = None if deleted else result.etag
            done += len(outcome)
            if progress:
                progress(name, done, total + len(retries))
            if error is not None:  # everything not written counts as failed
                report.failed += total + len(retries) - done
                raise error
        return written

    def _record(
        self,
        pair: str,
        calendar: str,
        outcome: list[tuple[PlannedOp, WriteResult]],
        report: PairReport,
        retries: list[PlannedOp],
    ) -> list[AppliedChange]:
        applied: list[AppliedChange] = []
        with self.state.transaction():
            for planned, result in outcome:
                op = planned.op
                if isinstance(result.error, NotFound) and op.action == "update" and op.event:
                    # Deleted behind our back since the read: write it anew.
                    retries.append(
                        replace(planned, op=replace(op, action="create", key=None, etag=None))
                    )
                    continue
                if result.error is not None and not (
                    isinstance(result.error, NotFound) and op.action == "delete"
                ):
                    report.failed += 1
                    conflict = isinstance(result.error, PreconditionFailed)
                    report.failures.append(
                        Failure(
                            planned.item_key, planned.title, calendar, str(result.error), conflict
                        )
                    )
                    continue
                if planned.link is not None:
                    self._record_link(pair, planned, result)
                elif op.action == "delete":
                    if planned.group:
                        self.state.delete_mappings(pair, [planned.item_key])
                else:
                    assert op.event is not None and planned.source_hash and planned.ends_at
                    key = result.key or op.key
                    assert key is not None, "a driver returned no key for a write"
                    self.state.put_mappings(
                        pair,
                        [
                            Link(
                                planned.item_key,
                                key,
                                op.event.uid,
                                planned.source_hash,
                                result.etag,
                                planned.ends_at,
                                planned.group,
                                dump_attendees(op.event.attendees),
                            )
                        ],
                    )
                if op.action == "delete":
                    report.deleted += 1
                elif op.action == "create" or planned.adopted:
                    report.created += 1
                else:
                    report.updated += 1
                applied.append(
                    AppliedChange(
                        pair, op.action, planned.item_key, result.key or op.key or "", op.event
                    )
                )
        return applied

    def _record_link(self, pair: str, planned: PlannedOp, result: WriteResult) -> None:
        """A two-sided pair's write: the link, with the written side's new key and etag."""
        assert planned.link is not None
        key = result.key or planned.op.key
        assert key is not None, "a driver returned no key for a write"
        if planned.side == "source":
            link = replace(planned.link, source_key=key, group=key, source_etag=result.etag)
            if planned.item_key and planned.item_key != key:  # written anew under a new key
                self.state.delete_mappings(pair, [planned.item_key])
        else:
            link = replace(planned.link, target_key=key, target_etag=result.etag)
        self.state.put_mappings(pair, [link])


def _chunks(items: list[PlannedOp], size: int) -> Iterator[list[PlannedOp]]:
    # Reads ``items`` as it goes, so retries appended meanwhile are still sent.
    start = 0
    while start < len(items):
        yield items[start : start + size]
        start += size
