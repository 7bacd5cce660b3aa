"""The command line as a user meets it: exit codes, messages, --json, plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from syncfw.cli import cli
from syncfw.drivers.memory import MemoryStore
from syncfw.sdk.ical import event_to_ical

from .conftest import MakeProfile, event


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


ICS_PAIR = """
version: 1
calendars:
  jobs: {driver: ics, path: jobs.ics, create: false}
  master: {driver: ics, path: master}
pairs:
  - name: push
    source: jobs
    target: master
"""


def test_run_json_reports_counts_per_pair(memory_pair: Path) -> None:
    MemoryStore.named("src").put(event("a"))
    result = invoke("run", str(memory_pair), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    pair = data["pairs"][0]
    assert {
        k: pair[k] for k in ("name", "created", "updated", "deleted", "unchanged", "failed")
    } == {"name": "push", "created": 1, "updated": 0, "deleted": 0, "unchanged": 0, "failed": 0}
    again = json.loads(invoke("run", str(memory_pair), "--json").stdout)["pairs"][0]
    assert (again["created"], again["updated"], again["deleted"]) == (0, 0, 0)


def test_run_prints_a_summary_and_status_shows_the_last_run(memory_pair: Path) -> None:
    MemoryStore.named("src").put(event("a"))
    result = invoke("run", str(memory_pair))
    assert result.exit_code == 0
    assert "push" in result.stdout and "created" in result.stdout
    status = json.loads(invoke("status", str(memory_pair), "--json").stdout)
    assert status["pairs"][0]["synced"] == 1
    assert status["pairs"][0]["last_run"]["status"] == "ok"
    assert "push" in invoke("status", str(memory_pair)).stdout


BAD_PROFILES = {
    "yaml syntax": ("version: 1\ncalendars:\n  a: {driver: ics\n", 4, "line 3"),
    "unknown key": (ICS_PAIR + "    colour: red\n", 10, "colour"),
    "unknown driver": (ICS_PAIR.replace("driver: ics, path: master", "driver: gogle"), 5, "gogle"),
    "missing env var": (
        ICS_PAIR.replace("path: master", "path: '${SYNCFW_TEST_UNSET}'"),
        5,
        "SYNCFW_TEST_UNSET",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PROFILES))
def test_a_bad_profile_exits_2_with_file_and_line_and_writes_nothing(
    tmp_path: Path, write_profile: MakeProfile, case: str
) -> None:
    text, line, word = BAD_PROFILES[case]
    (tmp_path / "jobs.ics").write_bytes(event_to_ical([event("a")]))
    profile = write_profile(text)
    before = sorted(p.name for p in tmp_path.iterdir())
    for command in ("run", "validate", "plan"):
        result = invoke(command, str(profile))
        assert result.exit_code == 2, (command, result.output)
        assert f"{profile}:{line}:" in result.stderr, result.stderr
        if word:
            assert word in result.stderr
        assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_unknown_driver_lists_the_installed_ones(write_profile: MakeProfile) -> None:
    profile = write_profile(ICS_PAIR.replace("driver: ics, path: master", "driver: gogle"))
    stderr = invoke("validate", str(profile)).stderr
    assert "ics" in stderr and "memory" in stderr and "jobcal" in stderr


def test_a_malformed_event_is_reported_by_name_and_the_rest_syncs(
    tmp_path: Path, write_profile: MakeProfile
) -> None:
    good = event_to_ical([event("good-1", "Good one"), event("good-2", "Good two")]).decode()
    broken = textwrap.dedent("""\
        BEGIN:VEVENT
        UID:broken-1
        SUMMARY:Broken meeting
        DTSTART:not-a-date
        DTEND:20300101T100000Z
        END:VEVENT
        """).replace("\n", "\r\n")
    (tmp_path / "jobs.ics").write_text(good.replace("END:VCALENDAR", broken + "END:VCALENDAR"))
    profile = write_profile(ICS_PAIR)
    result = invoke("run", str(profile))
    assert result.exit_code == 1
    assert "Broken meeting" in result.stderr
    data = json.loads(invoke("run", str(profile), "--json").stdout)["pairs"][0]
    assert data["failed"] == 1 and data["unchanged"] == 2
    assert len(list((tmp_path / "master").glob("*.ics"))) == 2


def test_safety_guard_exit_code_3_and_force(tmp_path: Path, write_profile: MakeProfile) -> None:
    (tmp_path / "jobs.ics").write_bytes(event_to_ical([event(f"e{i}") for i in range(12)]))
    profile = write_profile(ICS_PAIR)
    assert invoke("run", str(profile)).exit_code == 0
    (tmp_path / "jobs.ics").write_bytes(event_to_ical([]))
    stopped = invoke("run", str(profile))
    assert stopped.exit_code == 3
    assert "--force" in stopped.stderr
    assert len(list((tmp_path / "master").glob("*.ics"))) == 12
    assert invoke("run", str(profile), "--force").exit_code == 0
    assert list((tmp_path / "master").glob("*.ics")) == []


OUTSIDE_PLUGIN = """
from syncfw import hookimpl
from syncfw.drivers.memory import MemoryDriver

class EchoDriver(MemoryDriver):
    \"\"\"A driver from a plugin outside the package.\"\"\"
    name = "echo"

@hookimpl
def syncfw_register_drivers(register):
    register(EchoDriver)
"""


def test_a_plugin_outside_the_package_adds_a_driver(
    tmp_path: Path, write_profile: MakeProfile
) -> None:
    (tmp_path / "outside_plugin.py").write_text(OUTSIDE_PLUGIN)
    profile = write_profile("""
        version: 1
        calendars:
          a: {driver: echo, name: a}
          b: {driver: memory, name: b}
        pairs: [{name: ab, source: a, target: b}]
    """)
    env = {**os.environ, "SYNCFW_PLUGINS": "outside_plugin", "PYTHONPATH": str(tmp_path)}

    def syncfw(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "syncfw", *args],
            env=env,
            text=True,
            capture_output=True,
            timeout=60,
        )

    listed = json.loads(syncfw("drivers", "--json").stdout)
    assert {"name": "echo", "origin": "plugin outside_plugin"} in listed
    result = syncfw("run", str(profile), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pairs"][0]["name"] == "ab"
    without = subprocess.run(
        [sys.executable, "-m", "syncfw", "validate", str(profile)],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in env.items() if k != "SYNCFW_PLUGINS"},
    )
    assert without.returncode == 2 and "echo" in without.stderr


def test_drivers_lists_builtins_and_distributions() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "syncfw", "drivers", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    origins = {d["name"]: d["origin"] for d in json.loads(result.stdout)}
    assert origins["ics"] == "builtin" and origins["memory"] == "builtin"
    assert origins["jobcal"].startswith("syncfw-jobcal ")


def test_unknown_pair_is_a_usage_error(memory_pair: Path) -> None:
    result = invoke("run", str(memory_pair), "--pair", "nope")
    assert result.exit_code == 2 and "push" in result.stderr
