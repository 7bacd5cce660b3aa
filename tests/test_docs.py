"""Every hook and every CLI command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncfw import hookspecs
from syncfw.cli import cli

DOCS = Path(__file__).resolve().parents[1] / "docs"
HOOKS = sorted(name for name in vars(hookspecs) if name.startswith("syncfw_"))


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook: str) -> None:
    assert f"### `{hook}(" in (DOCS / "plugins.md").read_text()
    assert getattr(hookspecs, hook).__doc__, f"{hook} has no docstring"


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_in_the_readme(command: str) -> None:
    readme = (DOCS.parent / "README.md").read_text()
    assert f"`syncfw {command}" in readme
