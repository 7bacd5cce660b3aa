from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncfw.sdk.driver import DriverContext
from syncfw_jobcal import JobcalDriver, JobCalendar, JobcalOptions


class Clock:
    """A clock the test moves by hand, so "changed at the same time" is exact."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 10) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobcal.db'}"


@pytest.fixture
def cal(db_url: str, clock: Clock) -> Iterator[JobCalendar]:
    store = JobCalendar.open(db_url, clock=clock)
    store.init()
    yield store
    store.close()


@pytest.fixture
def jobs(cal: JobCalendar, clock: Clock, db_url: str) -> Iterator[JobcalDriver]:
    """A driver on the same database as ``cal``, both on the test's clock."""
    driver = JobcalDriver(JobcalOptions(url=db_url), DriverContext("jobs"))
    driver.store.clock = clock
    yield driver
    driver.close()
