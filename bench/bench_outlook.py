"""Push N job-calendar appointments to the Microsoft Graph emulator; time each whole command.

    .venv/bin/python bench/bench_outlook.py [--events 2000] [--page-size 200]

Starts the Graph emulator in this process on a free loopback port, fills a jobcal SQLite
database, then runs ``python -m syncfw run PROFILE --json`` as a user would (process
start, plugin loading and all) for: the initial push, a run with nothing to do, and a run
after 10 changes (edits, moves, deletes). Requests are counted at the emulator.

Targets (issue 9): the initial push sends at most ceil(N / 20) ``$batch`` requests plus
the delta pages; a run with nothing to do sends one request (one Outlook calendar; the
job calendar is SQL). Exits non-zero when one is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "outlook" / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from graph_emulator import GraphEmulator
from jobcal_data import change_ten, fill  # the same appointments as bench_caldav

from syncfw_jobcal.store import JobCalendar

BATCH = 20  # Graph's $batch limit, the driver's default
PROFILE = """\
version: 1
calendars:
  jobs: {{driver: jobcal, url: "sqlite:///{db}"}}
  master: {{driver: outlook, calendar: "Company master", endpoint: "{endpoint}",
            auth: {{token: test-token}}, page_size: {page_size}, backoff: 0.01}}
persons: {{from: jobs}}
pairs:
  - {{name: jobs-to-master, source: jobs, target: master, policy: master-push,
     window: {{past_days: 1, future_days: 120}}}}
"""


def timed_run(profile: Path, emulator: GraphEmulator) -> tuple[dict[str, Any], float]:
    emulator.reset_log()
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "syncfw", "run", str(profile), "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    seconds = time.perf_counter() - began
    if done.returncode not in (0, 1):
        raise SystemExit(f"syncfw failed ({done.returncode}): {done.stderr}")
    return json.loads(done.stdout)["pairs"][0], seconds


def counts(emulator: GraphEmulator) -> dict[str, int]:
    outer = [r for r in emulator.requests if not r.in_batch]
    inner = Counter(r.method for r in emulator.requests if r.in_batch)
    return {
        "HTTP requests": len(outer),
        "$batch": sum(1 for r in outer if r.path.endswith("$batch")),
        "delta pages": sum(1 for r in outer if r.method == "GET" and r.path.endswith("/delta")),
        "other": sum(1 for r in outer if not r.path.endswith(("$batch", "/delta"))),
        **{f"in batch {m}": n for m, n in sorted(inner.items())},
    }


def show(label: str, pair: dict[str, Any], seconds: float, seen: dict[str, int]) -> None:
    print(
        f"{label:<14} {seconds:7.2f} s   status={pair['status']} created={pair['created']} "
        f"updated={pair['updated']} deleted={pair['deleted']} unchanged={pair['unchanged']} "
        f"failed={pair['failed']}"
    )
    print(f"{'':<14} " + "  ".join(f"{k}={v}" for k, v in seen.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=200, help="odata.maxpagesize asked for")
    args = parser.parse_args()
    missed: list[str] = []
    with GraphEmulator() as emulator, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "jobcal.db"
        jobs = JobCalendar.open(f"sqlite:///{db}")
        jobs.init()
        uids = fill(jobs, args.events)
        profile = Path(tmp) / "bench.yaml"
        profile.write_text(
            PROFILE.format(db=db, endpoint=emulator.endpoint, page_size=args.page_size)
        )
        print(f"Graph emulator {emulator.endpoint}, {args.events} appointments in the window\n")

        pair, seconds = timed_run(profile, emulator)
        push = counts(emulator)
        show("initial push", pair, seconds, push)
        limit = math.ceil(args.events / BATCH)
        print(
            f"{'':<14} $batch requests {push['$batch']} (target <= ceil({args.events}/{BATCH}) "
            f"= {limit}) plus {push['delta pages']} delta pages (the read, and the settle "
            "past its own writes)"
        )
        if pair["created"] != args.events or pair["failed"]:
            missed.append(f"the initial push created {pair['created']} of {args.events}")
        if push["$batch"] > limit:
            missed.append(f"{push['$batch']} $batch requests > {limit}")

        pair, seconds = timed_run(profile, emulator)
        quiet = counts(emulator)
        show("no-op run", pair, seconds, quiet)
        print(f"{'':<14} target: 1 request (one delta) -> {quiet['HTTP requests']}")
        if pair["created"] + pair["updated"] + pair["deleted"] or quiet["HTTP requests"] != 1:
            missed.append(f"the no-op run sent {quiet['HTTP requests']} requests or wrote")

        change_ten(jobs, uids)
        pair, seconds = timed_run(profile, emulator)
        show("10 changes", pair, seconds, counts(emulator))
        if (pair["updated"], pair["deleted"], pair["failed"]) != (7, 3, 0):
            missed.append(
                f"the 10 changes gave updated={pair['updated']} deleted={pair['deleted']}"
            )
        jobs.close()
    for message in missed:
        print(f"MISSED: {message}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
