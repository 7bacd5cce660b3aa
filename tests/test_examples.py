"""Every profile under examples/ runs on local calendars, twice: the second run is a no-op."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syncfw_jobcal.store import JobCalendar

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def syncfw(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncfw", *args],
        cwd=cwd,
        text=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.yaml")))
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


def test_gestan_syncs_only_appointments(tmp_path: Path) -> None:
    profile = tmp_path / "gestan.yaml"
    shutil.copy(EXAMPLES / "gestan.yaml", profile)
    syncfw("jobcal", "--profile", str(profile), "init", "--demo", cwd=tmp_path)
    agenda = JobCalendar.open(f"sqlite:///{tmp_path / 'gestan-data' / 'agenda.db'}")
    types = {a.type for a in agenda.appointments()}
    agenda.close()
    assert "appointment" in types and len(types) > 1  # the demo agenda has other types too
    syncfw("run", str(profile), cwd=tmp_path)
    remote = (tmp_path / "gestan-data" / "remote.ics").read_text()
    categories = {
        line.split(":", 1)[1].strip()
        for line in remote.splitlines()
        if line.startswith("CATEGORIES")
    }
    assert categories == {"appointment"}
