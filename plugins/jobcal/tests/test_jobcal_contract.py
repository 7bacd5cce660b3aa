"""The jobcal driver passes the contract every syncfw driver must pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncfw.sdk.driver import DriverContext
from syncfw.testing import DriverContract
from syncfw_jobcal import JobcalDriver, JobcalOptions


class TestJobcalContract(DriverContract):
    @pytest.fixture
    def driver(self, tmp_path: Path) -> Iterator[JobcalDriver]:
        options = JobcalOptions.model_validate(
            {"url": "sqlite:///contract.db"}, context={"base_dir": tmp_path}
        )
        with JobcalDriver(options, DriverContext("jobs", base_dir=tmp_path)) as driver:
            yield driver  # type: ignore[misc]
