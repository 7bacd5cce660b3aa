"""Fixtures for the Outlook plugin's tests: a started Microsoft Graph emulator per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from graph_emulator import GraphEmulator


@pytest.fixture
def graph_emulator() -> Iterator[GraphEmulator]:
    """A running GraphEmulator on loopback, stopped after the test."""
    emulator = GraphEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()
