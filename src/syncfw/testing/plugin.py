"""The pytest plugin of syncfw (entry point ``pytest11: syncfw``): shared fixtures.

- ``memory_store``: a fresh, uniquely named :class:`~syncfw.drivers.memory.MemoryStore`
  (use ``{driver: memory, name: memory_store.name}``); every store is reset after the test.
- ``make_event``: :func:`syncfw.testing.make_event`, the event factory.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from syncfw.drivers.memory import MemoryStore
from syncfw.model import Event
from syncfw.testing.contract import make_event as _make_event


@pytest.fixture
def memory_store() -> Iterator[MemoryStore]:
    store = MemoryStore.named(f"test-{uuid.uuid4().hex[:12]}")
    try:
        yield store
    finally:
        MemoryStore.reset_all()


@pytest.fixture
def make_event() -> Callable[..., Event]:
    factory: Callable[..., Event] = _make_event
    return factory
