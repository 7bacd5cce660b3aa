"""Every hook and every CLI command is documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from syncfw.cli import cli
from syncfw.hooks import specs as hookspecs

DOCS = Path(__file__).resolve().parents[1] / "docs"
HOOKS = sorted(name for name in vars(hookspecs) if name.startswith("syncfw_"))


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_the_specs_arguments(hook: str) -> None:
    documented = re.findall(rf"^### `{hook}\((.*)\)`$", (DOCS / "plugins.md").read_text(), re.M)
    spec = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert documented == [spec], f"docs/plugins.md: ### `{hook}({spec})`"
    assert getattr(hookspecs, hook).__doc__, f"{hook} has no docstring"


def test_every_hook_has_its_own_test() -> None:
    tests = (Path(__file__).parent / "test_hooks.py").read_text()
    missing = [h for h in HOOKS if f"def test_hook_{h}(" not in tests]
    assert missing == []


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_in_the_readme(command: str) -> None:
    readme = (DOCS.parent / "README.md").read_text()
    assert f"`syncfw {command}" in readme
