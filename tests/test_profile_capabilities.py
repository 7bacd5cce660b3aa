"""A pair asks of its calendars what their drivers' Capabilities say they can do.

The loader refuses, with file:line, a pair that would read a calendar that cannot be read,
write one that cannot be written (a two-sided policy writes its source too), or push into
a target that does not keep the uids syncfw writes (no run could find its events again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from syncfw import Plugins, ProfileError, hookimpl, load_profile
from syncfw.sdk import Capabilities, Cursor, Driver, Feed, Window, WriteOp, WriteResult


def limited(name: str, **can: bool) -> type[Driver]:
    class Limited(Driver):
        capabilities = Capabilities(**can)

        def read(self, cursor: Cursor | None, window: Window) -> Feed:
            return Feed((), full=True)

        def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
            return iter(())

    Limited.name = name
    return Limited


class Limits:
    @hookimpl
    def syncfw_register_drivers(self, register: Callable[[type[Driver]], None]) -> None:
        register(limited("readonly", write=False))
        register(limited("sink", read=False))
        register(limited("renamer", client_ids=False))


def profile(tmp_path: Path, source: str, target: str, policy: str = "master-push") -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\n"
        "calendars:\n"
        f"  a: {{driver: {source}}}\n"
        f"  b: {{driver: {target}}}\n"
        "pairs:\n"
        f"  - {{name: p, source: a, target: b, policy: {policy}}}\n"
    )
    return path


@pytest.mark.parametrize(
    ("source", "target", "policy", "refused"),
    [
        ("memory", "readonly", "master-push", "'b' (driver 'readonly') cannot be written"),
        ("sink", "memory", "master-push", "'a' (driver 'sink') cannot be read"),
        ("memory", "sink", "master-push", "'b' (driver 'sink') cannot be read"),
        ("memory", "renamer", "master-push", "does not keep the uids syncfw writes"),
        ("readonly", "memory", "two-way", "'a' (driver 'readonly') cannot be written"),
    ],
)
def test_a_pair_that_needs_what_a_driver_cannot_do_is_refused_at_its_line(
    tmp_path: Path, source: str, target: str, policy: str, refused: str
) -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile(profile(tmp_path, source, target, policy), Plugins(extra=[Limits()]))
    assert refused in str(caught.value)
    assert f"{tmp_path / 'p.yaml'}:6:" in str(caught.value)


@pytest.mark.parametrize(("source", "target"), [("readonly", "memory"), ("renamer", "memory")])
def test_a_source_that_is_only_read_is_fine(tmp_path: Path, source: str, target: str) -> None:
    loaded = load_profile(profile(tmp_path, source, target), Plugins(extra=[Limits()]))
    assert [p.name for p in loaded.pairs] == ["p"]
