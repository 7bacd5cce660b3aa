"""Push N appointments to the Google Calendar API emulator; print request counts and wall time.

    .venv/bin/python bench/bench_google.py [--events 2000] [--page-size N]

Targets (issue 4): the initial push sends at most ceil(N / 50) write requests (batch
requests) plus the list pages; a run with nothing to do sends one request per calendar.
Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "google" / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync import fill  # the same 2,000 appointments as the core bench
from emulator import GoogleEmulator

from syncfw import Engine, RunReport, load_profile
from syncfw.drivers.memory import MemoryStore

BATCH = 50  # the driver's default batch_size
WRITES = ("POST", "PUT", "PATCH", "DELETE")

PROFILE = """\
version: 1
calendars:
  jobs: {{driver: memory, name: bench-google-src}}
  master: {{driver: google, calendar: "Company master", endpoint: "{endpoint}",
            auth: {{token: test-token}}, batch_size: {batch}, backoff: 0.01}}
pairs:
  - {{name: push, source: jobs, target: master, window: {{past_days: 1, future_days: 400}},
     attendees: {{notify: none}}}}
"""


def run(profile: Path) -> tuple[RunReport, float]:
    began = time.perf_counter()
    with Engine(load_profile(profile)) as engine:
        report = engine.run()
    return report, time.perf_counter() - began


def counts(emulator: GoogleEmulator) -> dict[str, int]:
    outer = [r for r in emulator.requests if not r.in_batch]
    return {
        "batch requests": sum(1 for r in outer if r.path.startswith("/batch/")),
        "single event writes": sum(
            1 for r in outer if r.method in WRITES and "/events" in r.path and not r.in_batch
        ),
        "calendars created": sum(
            1 for r in outer if r.method == "POST" and r.path.endswith("/calendars")
        ),
        "writes in batches": sum(1 for r in emulator.requests if r.in_batch),
        "list pages": sum(1 for r in outer if r.method == "GET" and r.path.endswith("/events")),
        "calendarList": sum(1 for r in outer if r.path.endswith("/calendarList")),
        "all HTTP requests": len(outer),
    }


def show(label: str, report: RunReport, seconds: float, seen: dict[str, int]) -> None:
    pair = report.pairs[0]
    print(
        f"{label:<12} {seconds:6.2f} s   status={pair.status} created={pair.created} "
        f"updated={pair.updated} unchanged={pair.unchanged} failed={pair.failed}"
    )
    print(f"{'':<12} " + "  ".join(f"{k}={v}" for k, v in seen.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=None, help="emulator's page cap")
    args = parser.parse_args()
    fill(MemoryStore.named("bench-google-src"), args.events)
    missed = []
    with GoogleEmulator(page_size=args.page_size) as emulator, tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "bench.yaml"
        profile.write_text(PROFILE.format(endpoint=emulator.endpoint, batch=BATCH))

        report, seconds = run(profile)
        push = counts(emulator)
        show("initial push", report, seconds, push)
        write_requests = push["batch requests"] + push["single event writes"]
        limit = math.ceil(args.events / BATCH)
        print(
            f"{'':<12} write requests {write_requests} (target <= ceil({args.events}/{BATCH}) "
            f"= {limit}), plus {push['list pages']} list pages"
        )
        if report.pairs[0].created != args.events:
            missed.append(f"created {report.pairs[0].created} of {args.events}")
        if write_requests > limit:
            missed.append(f"{write_requests} write requests > {limit}")

        emulator.reset_log()
        report, seconds = run(profile)
        quiet = counts(emulator)
        show("no-op run", report, seconds, quiet)
        print(
            f"{'':<12} requests for the one Google calendar: {quiet['all HTTP requests']} "
            f"(events.list {quiet['list pages']}, calendarList {quiet['calendarList']})"
        )
        if quiet["list pages"] != 1 or quiet["batch requests"] + quiet["single event writes"]:
            missed.append("the no-op run did more than one list request")
        if quiet["all HTTP requests"] != 1:
            print(
                f"{'':<12} note: {quiet['calendarList']} calendarList request(s) resolve "
                "the calendar name again on every run"
            )
    for message in missed:
        print(f"MISSED: {message}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
