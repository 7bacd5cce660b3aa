"""A real CalDAV server for the tests: Radicale on a free loopback port.

One server per test session (starting it takes about a second); each test gets a
fresh calendar on it, so tests never see each other's events.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from radicale_server import RadicaleServer

from syncfw.sdk.driver import DriverContext
from syncfw_caldav import CaldavDriver, CaldavOptions


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    """The running Radicale itself, with its log of the HTTP requests it received."""
    pytest.importorskip("radicale", reason="pip install 'syncfw-caldav[test]'")
    server = RadicaleServer(tmp_path_factory.mktemp("radicale"))
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def radicale(radicale_server: RadicaleServer) -> str:
    """The base URL of a running Radicale (no auth: any user name is accepted)."""
    return radicale_server.url


def make_driver(url: str, calendar: str, user: str = "tester") -> CaldavDriver:
    opts = CaldavOptions(url=url, calendar=calendar, username=user, password="secret")
    return CaldavDriver(opts, DriverContext("caldav-test"))


@pytest.fixture
def calendar_name() -> str:
    return f"Test {uuid.uuid4().hex[:12]}"


@pytest.fixture
def user() -> str:
    """A user of its own per test (no auth: Radicale takes any name), so that finding
    a calendar by name never wades through every other test's calendars."""
    return f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def caldav_driver(radicale: str, calendar_name: str, user: str) -> Iterator[CaldavDriver]:
    with make_driver(radicale, calendar_name, user) as driver:
        yield driver
