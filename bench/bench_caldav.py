"""Push N job-calendar appointments to a CalDAV calendar on a local Radicale; time each run.

    .venv/bin/python bench/bench_caldav.py [--events 2000]

Starts its own Radicale on a free loopback port in a temp folder (and stops it), fills
a jobcal SQLite database, then times three runs of one master-push pair, each a new
Engine as a scheduled run would be: the initial push, a run with nothing to do (twice:
right after the push, and once more), and a run after 10 changes (edits, moves,
deletes). HTTP requests are counted by the server (its request log).

Targets: the no-op run takes under 1 s and sends at most one request per calendar
(one CalDAV calendar here: the job calendar is SQL). Exits non-zero when one is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "caldav" / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from jobcal_data import change_ten, fill  # the same appointments as bench_outlook
from radicale_server import RadicaleServer, Request

from syncfw import Engine, PairReport, load_profile
from syncfw_jobcal.store import JobCalendar

NOOP_SECONDS = 1.0
NOOP_REQUESTS = 1  # one CalDAV calendar
PROFILE = """\
version: 1
calendars:
  jobs: {{driver: jobcal, url: "sqlite:///{db}"}}
  dav: {{driver: caldav, url: "{calendar}", calendar: "{calendar}",
        username: bench, password: secret}}
persons: {{from: jobs}}
pairs:
  - {{name: jobs-to-dav, source: jobs, target: dav, policy: master-push,
     window: {{past_days: 1, future_days: 120}}}}
"""


def timed_run(profile: Path, server: RadicaleServer) -> tuple[PairReport, float, list[Request]]:
    mark = server.mark()
    began = time.perf_counter()
    with Engine(load_profile(profile)) as engine:
        report = engine.run()
    seconds = time.perf_counter() - began
    return report.pairs[0], seconds, server.requests(mark)


def show(label: str, pair: PairReport, seconds: float, requests: list[Request]) -> int:
    """Print one run; returns its number of HTTP requests."""
    total = len(requests)
    methods = Counter(r.method for r in requests)
    served = max((r.seconds or 0.0 for r in requests), default=0.0)
    print(
        f"{label:<16} {seconds:7.2f} s  {total:5d} HTTP requests  {total / seconds:7.1f} req/s"
        f"   status={pair.status} created={pair.created} updated={pair.updated} "
        f"deleted={pair.deleted} unchanged={pair.unchanged} failed={pair.failed}"
    )
    print(
        f"{'':<16} "
        + "  ".join(f"{m}={n}" for m, n in sorted(methods.items()))
        + f"   (slowest answer from Radicale: {served:.3f} s)"
    )
    return total


def check_noop(label: str, pair: PairReport, seconds: float, total: int) -> list[str]:
    """The no-op targets; prints them beside the figures and returns what was missed."""
    ok = seconds < NOOP_SECONDS and total <= NOOP_REQUESTS
    print(
        f"{'':<16} target: under {NOOP_SECONDS:.0f} s and at most {NOOP_REQUESTS} request "
        f"per calendar -> {seconds:.2f} s, {total} request(s) [{'ok' if ok else 'MISSED'}]"
    )
    missed = []
    if pair.changed or pair.failed:
        missed.append(f"the {label} wrote something")
    if seconds >= NOOP_SECONDS:
        missed.append(f"the {label} took {seconds:.2f} s (target < {NOOP_SECONDS:.0f} s)")
    if total > NOOP_REQUESTS:
        missed.append(f"the {label} sent {total} requests (target <= {NOOP_REQUESTS})")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    missed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, RadicaleServer(Path(tmp) / "radicale") as server:
        calendar = server.make_calendar("bench", "jobs")
        jobs = JobCalendar.open(f"sqlite:///{Path(tmp) / 'jobcal.db'}")
        jobs.init()
        uids = fill(jobs, args.events)
        profile = Path(tmp) / "bench.yaml"
        profile.write_text(PROFILE.format(db=Path(tmp) / "jobcal.db", calendar=calendar))
        print(f"Radicale {server.url}, {args.events} appointments in the window\n")

        pair, seconds, requests = timed_run(profile, server)
        show("initial push", pair, seconds, requests)
        print(f"{'':<16} {args.events / seconds:,.0f} events/s")
        if pair.created != args.events or pair.failed:
            missed.append(f"the initial push created {pair.created} of {args.events}")

        # The first run after the push reads from the token of the push's read, taken
        # before its writes, so the server sends the push's events back once; the
        # second shows the steady state of a scheduled run with nothing to do.
        for label in ("no-op run", "no-op run again"):
            pair, seconds, requests = timed_run(profile, server)
            total = show(label, pair, seconds, requests)
            missed += check_noop(label, pair, seconds, total)

        change_ten(jobs, uids)
        pair, seconds, requests = timed_run(profile, server)
        show("10 changes", pair, seconds, requests)
        if (pair.updated, pair.deleted, pair.failed) != (7, 3, 0):
            missed.append(f"the 10 changes gave updated={pair.updated} deleted={pair.deleted}")
        jobs.close()
    for message in missed:
        print(f"MISSED: {message}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
