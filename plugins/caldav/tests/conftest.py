"""A real CalDAV server for the tests: Radicale on a free loopback port.

One server per test session (starting it takes about a second); each test gets a
fresh calendar on it, so tests never see each other's events.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncfw.driver import DriverContext
from syncfw_caldav import CaldavDriver, CaldavOptions


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means it is up
    except OSError:
        return False


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running Radicale (no auth: any user name is accepted)."""
    pytest.importorskip("radicale", reason="pip install 'syncfw-caldav[test]'")
    folder: Path = tmp_path_factory.mktemp("radicale")
    port = _free_port()
    log = (folder / "radicale.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "radicale",
            "--storage-filesystem-folder", str(folder / "collections"),
            "--auth-type", "none",
            "--server-hosts", f"127.0.0.1:{port}",
            "--logging-level", "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 15
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Radicale did not start: {(folder / 'radicale.log').read_text()}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


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
