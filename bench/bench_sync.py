"""Plan and apply N events memory -> memory; print events per second and peak RSS.

    .venv/bin/python bench/bench_sync.py [--events 100000]

Targets (2-core machine): planning >= 50,000 events/s, peak RSS < 500 MB.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncfw import Attendee, Engine, Event, load_profile
from syncfw.drivers.memory import MemoryStore

PROFILE = """\
version: 1
calendars:
  src: {driver: memory, name: bench-src}
  dst: {driver: memory, name: bench-dst}
pairs:
  - {name: bench, source: src, target: dst, window: {past_days: 1, future_days: 400}}
"""


def fill(store: MemoryStore, count: int) -> None:
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    people = tuple(Attendee(f"person{i}@example.com", f"Person {i}") for i in range(3))
    for i in range(count):
        start = base + timedelta(hours=i % 8000)
        store.put(
            Event(
                uid=f"job-{i}",
                title=f"Job {i}",
                start=start,
                end=start + timedelta(hours=1),
                location="Site",
                attendees=people,
            )
        )


def timed(label: str, count: int, action):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    report = action()
    seconds = time.perf_counter() - began
    pair = report.pairs[0]
    phases = "  ".join(f"{k} {v:.2f}s" for k, v in pair.seconds.items())
    print(f"{label:<16} {seconds:6.2f} s  {count / seconds:9,.0f} events/s overall  ({phases})")
    print(
        f"{'':<16} created={pair.created} updated={pair.updated} "
        f"unchanged={pair.unchanged} failed={pair.failed}"
    )
    if "plan" in pair.seconds:
        print(f"{'':<16} planning: {count / pair.seconds['plan']:,.0f} events/s")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(PROFILE)
        profile = load_profile(path)
        fill(MemoryStore.named("bench-src"), args.events)
        with Engine(profile) as engine:
            timed("plan (dry run)", args.events, lambda: engine.run(dry_run=True))
            timed("plan + apply", args.events, lambda: engine.run())
            timed("no-op run", args.events, lambda: engine.run())
        assert len(MemoryStore.named("bench-dst").events()) == args.events
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:,.0f} MB for {args.events:,} events")


if __name__ == "__main__":
    main()
