"""The jobcal driver passes the contract every syncfw driver must pass."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from syncfw.model import as_utc
from syncfw.sdk.driver import Driver, DriverContext, WriteOp
from syncfw.testing import DriverContract, make_event
from syncfw_jobcal import JobcalDriver, JobcalOptions, schema
from syncfw_jobcal.records import Appointment, StoreUnavailable


class TestJobcalContract(DriverContract):
    @pytest.fixture
    def driver(self, tmp_path: Path) -> Iterator[JobcalDriver]:
        options = JobcalOptions.model_validate(
            {"url": "sqlite:///contract.db"}, context={"base_dir": tmp_path}
        )
        with JobcalDriver(options, DriverContext("jobs", base_dir=tmp_path)) as driver:
            yield driver  # type: ignore[misc]

    def plant_unreadable(self, driver: Driver) -> str:
        """Another program stores an appointment that ends before it starts."""
        assert isinstance(driver, JobcalDriver)
        event = make_event(title="Backwards")
        (made,) = driver.write([WriteOp("create", event=event)])
        a = schema.appointments
        backwards = {"ends_at": as_utc(event.start) - timedelta(hours=1)}
        touched = {"updated_at": datetime.now(UTC), "version": a.c.version + 1}
        with driver.store.transaction() as conn:
            conn.execute(a.update().where(a.c.uid == made.key).values(backwards | touched))
        return made.key or ""

    def failing_writes(self, driver: Driver, key: str) -> AbstractContextManager[object]:
        """The database goes away while this appointment is written."""
        assert isinstance(driver, JobcalDriver)
        real = driver.store.put

        def unavailable(appt: Appointment, *args: Any, **kwargs: Any) -> Appointment:
            if appt.uid == key:
                raise StoreUnavailable("database contract.db: connection lost")
            return real(appt, *args, **kwargs)

        return patch.object(driver.store, "put", unavailable)
