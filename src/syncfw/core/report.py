"""What a run did: per applied change, per pair, per run. Plain values for hooks and --json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from syncfw.model import Event

__all__ = ["AppliedChange", "Failure", "PairReport", "RunReport"]


@dataclass(frozen=True, slots=True)
class AppliedChange:
    """One change a run applied to a pair's target."""

    pair: str
    action: Literal["create", "update", "delete"]
    source_key: str
    target_key: str
    event: Event | None


@dataclass(frozen=True, slots=True)
class Failure:
    """One event that could not be synced, and why."""

    key: str
    title: str
    calendar: str
    message: str
    conflict: bool = False  # the target changed between read and write (412 / etag)


@dataclass
class PairReport:
    name: str
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    full_read: bool = False
    dry_run: bool = False
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None
    stopped_by_guard: bool = False
    #: ok | partial (some events failed) | busy (another run had the pair) | guard |
    #: interrupted (a stop was requested) | error
    status: str = "ok"
    planned: list[dict[str, str]] = field(default_factory=list)  # dry runs: each op
    #: What the run did differently from the profile's letter, and why (e.g. a series the
    #: target cannot store, written as single events).
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per phase

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted

    def absorb(self, later: PairReport, *, retry: bool = False) -> None:
        """Add a later pass over the same pair: its writes, plans and time add up.

        A ``retry`` re-planned everything, so its view of what failed replaces this
        one's; a further phase (a session's close after its open) adds its failures.
        """
        self.created += later.created
        self.updated += later.updated
        self.deleted += later.deleted
        if retry:
            self.failed, self.failures = later.failed, later.failures
        else:
            self.failed += later.failed
            self.failures.extend(later.failures)
        self.unchanged = later.unchanged
        self.full_read = self.full_read or later.full_read
        self.planned.extend(later.planned)
        self.notes = sorted({*self.notes, *later.notes})
        for phase, seconds in later.seconds.items():
            self.seconds[phase] = round(self.seconds.get(phase, 0.0) + seconds, 6)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunReport:
    started_at: datetime
    finished_at: datetime | None = None
    dry_run: bool = False
    pairs: list[PairReport] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 ok, 1 some events failed, 3 a safety guard stopped a pair."""
        if any(p.stopped_by_guard for p in self.pairs):
            return 3
        if any(p.failed or p.error for p in self.pairs):
            return 1
        return 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "dry_run": self.dry_run,
            "exit_code": self.exit_code,
            "pairs": [p.as_dict() for p in self.pairs],
        }
