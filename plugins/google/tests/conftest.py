"""Fixtures for the Google plugin's tests: a started Calendar API emulator per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emulator import GoogleEmulator


@pytest.fixture
def google_emulator() -> Iterator[GoogleEmulator]:
    """A running GoogleEmulator on loopback, stopped after the test."""
    emulator = GoogleEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()
