"""The README's quick start: `make run` twice on a clean checkout."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def clean_checkout(dest: Path) -> Path:
    """The files git tracks (as they are in the work tree), nothing the demo left behind."""
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


@pytest.mark.slow
def test_make_run_twice_creates_the_demo_then_has_nothing_to_do(tmp_path: Path) -> None:
    checkout = clean_checkout(tmp_path / "syncfw")
    venv = Path(sys.prefix)
    # Reuse this test run's environment: `-o` tells make the install step is done.
    make = [
        "make",
        "--no-print-directory",
        "-C",
        str(checkout),
        "run",
        f"VENV={venv}",
        "-o",
        f"{venv}/.installed",
    ]

    def last_run() -> dict[str, int]:
        status = subprocess.run(
            [str(venv / "bin" / "syncfw"), "status", "examples/demo.yaml", "--json"],
            cwd=checkout,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(status.stdout)["pairs"][0]["last_run"]

    first = subprocess.run(make, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    run = last_run()
    assert run["created"] > 20 and run["failed"] == 0, run
    masters = list((checkout / "examples/demo-data/master").glob("*.ics"))
    assert len(masters) == run["created"]
    # Each person with the sync flag on has a calendar of their own, with their share.
    people = sorted(p for p in (checkout / "examples/demo-data/people").iterdir())
    assert len(people) >= 3
    shares = [len(list(p.glob("*.ics"))) for p in people]
    assert all(0 < n < len(masters) for n in shares), shares

    second = subprocess.run(make, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    run = last_run()
    assert (run["created"], run["updated"], run["deleted"], run["failed"]) == (0, 0, 0, 0)
    assert "nothing to do" in second.stdout
