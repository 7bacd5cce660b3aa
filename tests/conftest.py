from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncfw.drivers.memory import MemoryStore
from syncfw.model import Event
from syncfw.sdk.ical import events_from_ical

MakeProfile = Callable[..., Path]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests see only builtin plugins and installed distributions, never a user's env."""
    monkeypatch.delenv("SYNCFW_PLUGINS", raising=False)
    MemoryStore.reset_all()
    yield
    MemoryStore.reset_all()


@pytest.fixture
def write_profile(tmp_path: Path) -> MakeProfile:
    """Write a profile YAML (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "profile.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def memory_pair(write_profile: MakeProfile) -> Path:
    """A master-push pair from memory store 'src' to memory store 'dst'."""
    return write_profile(
        """
        version: 1
        calendars:
          src: {driver: memory, name: src}
          dst: {driver: memory, name: dst}
        pairs:
          - name: push
            source: src
            target: dst
            window: {past_days: 7, future_days: 60}
        """
    )


def event(
    uid: str, title: str | None = None, *, days: int = 1, hours: int = 1, **kw: object
) -> Event:
    """A one-hour event ``days`` from now at 10:00 UTC."""
    day = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    start = day + timedelta(days=days)
    return Event(
        uid=uid,
        title=title or f"event {uid}",
        start=start,
        end=start + timedelta(hours=hours),
        **kw,
    )  # type: ignore[arg-type]


def day_at(days: int, hour: int = 9) -> datetime:
    """``hour``:00 UTC, ``days`` from today."""
    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


def read_ics_folder(folder: Path) -> dict[str, Event]:
    """The events of a folder of .ics files by uid; an unreadable file or a uid twice fails."""
    found: dict[str, Event] = {}
    for path in sorted(folder.glob("*.ics")):
        for item in events_from_ical(path.read_bytes()):
            assert isinstance(item, Event), f"unreadable file {path.name}: {item}"
            assert item.uid not in found, f"uid {item.uid} twice in {folder}"
            found[item.uid] = item
    return found
