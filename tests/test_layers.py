"""The package's layers (docs/architecture.md) hold, and a crossing is caught.

``make test`` runs ``lint-imports`` on the contracts in pyproject.toml; these tests show
the contracts mean something: a copy of the package with one forbidden import added fails
them and names the import.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "syncfw"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def contracts(*ids: str) -> str:
    """pyproject's contracts ``ids`` as an import-linter config for the package alone."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines = ["[importlinter]", "root_package = syncfw", "include_external_packages = True"]
    for contract in config["contracts"]:
        if contract["id"] not in ids:
            continue
        lines.append(f"\n[importlinter:contract:{contract['id']}]")
        for key, value in contract.items():
            if key != "id":
                shown = "".join(f"\n    {v}" for v in value) if isinstance(value, list) else value
                lines.append(f"{key} = {shown}")
    return "\n".join(lines) + "\n"


def lint(tmp_path: Path, *ids: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "setup.cfg").write_text(contracts(*ids))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of src/syncfw to break."""
    shutil.copytree(
        SOURCE, tmp_path / "src" / "syncfw", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path / "src" / "syncfw"


def test_the_copy_keeps_the_contracts(package: Path, tmp_path: Path) -> None:
    result = lint(tmp_path, "layers", "pure-core", "bottom")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract", "shown"),
    [
        ("core/recurrence.py", "from syncfw.runtime.state import State", "layers",
         "syncfw.core.recurrence -> syncfw.runtime.state"),
        ("core/policies.py", "import sqlite3", "pure-core", "syncfw.core.policies -> sqlite3"),
        ("core/report.py", "from syncfw.sdk.driver import Driver", "layers",
         "syncfw.core.report -> syncfw.sdk.driver"),
        ("model.py", "from syncfw.errors import SyncfwError", "bottom",
         "syncfw.model -> syncfw.errors"),
        ("sdk/ical.py", "from syncfw.config.models import Profile", "layers",
         "syncfw.sdk.ical -> syncfw.config.models"),
    ],
)  # fmt: skip
def test_a_forbidden_import_breaks_a_contract(
    package: Path, tmp_path: Path, module: str, line: str, contract: str, shown: str
) -> None:
    path = package / module
    text = path.read_text()
    # Placed with the other imports, under TYPE_CHECKING too: that counts as well.
    anchor = "from __future__ import annotations\n"
    guarded = f"{anchor}\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    {line}\n"
    path.write_text(text.replace(anchor, guarded, 1))
    result = lint(tmp_path, contract)
    assert result.returncode == 1, result.stdout
    assert "BROKEN" in result.stdout and shown in result.stdout


def test_only_the_command_line_prints_or_exits() -> None:
    allowed = {SOURCE / "cli.py", SOURCE / "commands.py"}
    pattern = re.compile(r"\b(print\(|sys\.exit\(|click\.echo\(|os\._exit\()")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in SOURCE.rglob("*.py")
        if path not in allowed
        for number, text in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(text) and not text.lstrip().startswith("#")
    ]
    assert found == []
