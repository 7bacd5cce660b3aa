"""The csvcal driver passes the contract every syncfw driver must pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncfw.model import Event
from syncfw.sdk import Driver, DriverContext
from syncfw.testing import DriverContract
from syncfw_csvcal import CsvDriver, CsvOptions


class TestCsvContract(DriverContract):
    # The file has the columns of docs/writing-a-driver.md, no more: a small example.
    not_stored = {
        case: "the CSV file has no column for it"
        for case in (
            "status=tentative",
            "status=cancelled",
            "transparency=transparent",
            "visibility=public",
            "visibility=private",
            "visibility=confidential",
            "categories",
        )
    }
    eager_writes = "one write() rewrites the file once, with every op applied"

    @pytest.fixture
    def driver(self, tmp_path: Path) -> Iterator[CsvDriver]:
        options = CsvOptions.model_validate(
            {"path": "calendar.csv"}, context={"base_dir": tmp_path}
        )
        with CsvDriver(options, DriverContext("csv", base_dir=tmp_path)) as driver:
            yield driver  # type: ignore[misc]

    def edit_behind_back(self, driver: Driver, key: str, event: Event) -> None:
        """Someone retitles the row in a spreadsheet program: new bytes, new etag."""
        assert isinstance(driver, CsvDriver)
        path = driver.options.path
        old_title = self.read_event(driver, key)[0].title
        path.write_bytes(path.read_bytes().replace(old_title.encode(), event.title.encode(), 1))
