"""Every profile under examples/ on local calendars runs twice: the second run is a no-op.

examples/gestan.yaml talks to a CalDAV server; plugins/caldav/tests runs it against Radicale.
examples/outlook.yaml talks to Microsoft 365; plugins/outlook/tests runs it against the Graph
emulator.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SERVICE_DRIVERS = ("caldav", "outlook")  # examples that need a server: tested in their plugin


def syncfw(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncfw", *args],
        cwd=cwd,
        text=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    sorted(
        p.stem
        for p in EXAMPLES.glob("*.yaml")
        if not any(f"driver: {d}" in p.read_text() for d in SERVICE_DRIVERS)
    ),
)
def test_example_runs_and_then_has_nothing_to_do(tmp_path: Path, name: str) -> None:
    profile = tmp_path / f"{name}.yaml"
    shutil.copy(EXAMPLES / f"{name}.yaml", profile)
    seeded = syncfw("jobcal", "--profile", str(profile), "init", "--demo", cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    first = syncfw("run", str(profile), "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    pairs = json.loads(first.stdout)["pairs"]
    assert pairs[0]["created"] > 0 and all(p["failed"] == 0 for p in pairs)
    second = json.loads(syncfw("run", str(profile), "--json", cwd=tmp_path).stdout)["pairs"]
    assert [(p["created"], p["updated"], p["deleted"]) for p in second] == [(0, 0, 0)] * len(pairs)
