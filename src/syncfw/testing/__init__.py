"""Test helpers for syncfw and for third-party drivers.

``DriverContract`` is the suite every driver must pass; subclass it in your
tests and provide a ``driver`` fixture (see :mod:`syncfw.testing.contract`).
The pytest plugin :mod:`syncfw.testing.plugin` (loaded automatically once
syncfw is installed) adds the fixtures ``memory_store`` and ``make_event``.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite(
    "syncfw.testing.contract",
    "syncfw.testing.contract_base",
    "syncfw.testing.contract_fields",
    "syncfw.testing.contract_reads",
    "syncfw.testing.contract_writes",
)

from syncfw.core.policies import target_uid  # noqa: E402  (the uids a master push writes)
from syncfw.testing.contract import DriverContract, fresh_window, make_event  # noqa: E402

__all__ = ["DriverContract", "fresh_window", "make_event", "target_uid"]
