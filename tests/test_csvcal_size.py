"""The example driver stays small: a CSV calendar in under 150 lines (issue 11, point 6).

Counted are the non-blank, non-comment lines of examples/plugins/csvcal/src, docstrings
included. ``python tests/test_csvcal_size.py`` prints the count per file. Its contract
suite (examples/plugins/csvcal/tests) runs in ``make test`` through pytest's testpaths.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plugins" / "csvcal"
LIMIT = 150


def source_lines(path: Path) -> int:
    """Lines that are neither blank nor only a comment."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return sum(1 for line in lines if line and not line.startswith("#"))


def counts() -> dict[str, int]:
    files = sorted((EXAMPLE / "src").rglob("*.py"))
    return {str(file.relative_to(EXAMPLE)): source_lines(file) for file in files}


def test_counting_skips_blank_and_comment_lines(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Doc."""\n\n# a comment\n   # indented\nx = 1  # counted\n\n')
    assert source_lines(sample) == 2


def test_the_csv_driver_is_under_150_lines() -> None:
    found = counts()
    assert "src/syncfw_csvcal/driver.py" in found, found
    total = sum(found.values())
    print(f"examples/plugins/csvcal/src: {total} lines ({found})")
    assert total < LIMIT, f"{total} lines: {found}"


def test_make_test_runs_the_example_contract_suite() -> None:
    pytest_options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    assert "examples/plugins" in pytest_options["ini_options"]["testpaths"]
    contract = (EXAMPLE / "tests" / "test_csvcal_contract.py").read_text()
    assert "(DriverContract)" in contract


if __name__ == "__main__":
    for name, lines in counts().items():
        print(f"{lines:4}  {name}")
    print(f"{sum(counts().values()):4}  total (must stay under {LIMIT})")
