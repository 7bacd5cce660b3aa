"""A real Radicale on a free loopback port, for the caldav tests and bench/bench_caldav.py.

The server runs as its own process (``python -m radicale``), storing into a folder
the caller owns, without auth (any user name and password are accepted). It logs
at level ``info``, which writes one line per HTTP request it receives; reading
those lines back is how the tests and the bench count the requests syncfw really
sent. Counting at the server, not in the client, keeps the count true whatever
HTTP library or threading the driver uses, and also for runs in a child process.
"""

from __future__ import annotations

import base64
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import quote
from xml.sax.saxutils import escape

__all__ = ["RadicaleServer", "Request", "free_port"]

# Radicale's app logs "<METHOD> request for '<path>'... received from <address>" on arrival,
# before it answers, so a request whose answer the client has is already in the log; and
# "<METHOD> response status for '<path>' in ...: <status> <reason>" once it answered. Both
# lines start with "[<time>] [<pid>/<thread>]", which pairs an answer with its request.
_LOG_LINE = re.compile(
    r"^\[[^\]]*\] \[(?P<thread>[^\]]*)\] \[\w+\] (?P<method>[A-Z]+) "
    r"(?P<kind>request for|response status for) (?P<q>['\"])(?P<path>.*?)(?P=q)"
    r"(?:.*? in (?P<seconds>[\d.]+) seconds.*: (?P<status>\d{3}) )?",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request the server received."""

    method: str
    path: str
    status: int | None = None  # None: not answered (yet), or the answer was not logged
    seconds: float | None = None  # how long the server took to answer


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
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


class RadicaleServer:
    """Radicale serving ``folder/collections`` at :attr:`url`, with a request log.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        folder: Path,
        *,
        start_timeout: float = 15.0,
        users: dict[str, str] | None = None,
    ) -> None:
        """``users`` (name: password) makes the server check passwords; else any login goes."""
        self.folder = folder
        self.start_timeout = start_timeout
        self.users = users
        self.port = 0
        self.log_path = folder / "radicale.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL, ending in ``/``."""
        if not self.port:
            raise RuntimeError("the Radicale server is not started")
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        """Start the server and wait until it answers; RuntimeError (with its log) if not."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self._log = self.log_path.open("wb")
        auth = ["--auth-type", "none"]
        if self.users is not None:
            htpasswd = self.folder / "users"
            htpasswd.write_text("".join(f"{u}:{p}\n" for u, p in self.users.items()))
            auth = [
                "--auth-type", "htpasswd",
                "--auth-htpasswd-filename", str(htpasswd),
                "--auth-htpasswd-encryption", "plain",
                "--auth-delay", "0",
            ]  # fmt: skip
        self._process = subprocess.Popen(
            [
                sys.executable, "-m", "radicale",
                "--storage-filesystem-folder", str(self.folder / "collections"),
                *auth,
                "--server-hosts", f"127.0.0.1:{self.port}",
                "--logging-level", "info",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + self.start_timeout
        while not _answers(self.url):
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = self.log_path.read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"Radicale did not start on port {self.port}:\n{log}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 10 s); safe to call twice."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> RadicaleServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def make_calendar(self, user: str, name: str, display_name: str | None = None) -> str:
        """Create the calendar collection ``/<user>/<name>/`` (MKCALENDAR); returns its URL."""
        url = f"{self.url}{quote(user)}/{quote(name)}/"
        login = base64.b64encode(f"{user}:secret".encode()).decode()
        body = None
        if display_name is not None:
            body = (
                '<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" '
                'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>'
                f"{escape(display_name)}</D:displayname></D:prop></D:set></C:mkcalendar>"
            ).encode()
        request = urllib.request.Request(
            url, body, method="MKCALENDAR", headers={"Authorization": f"Basic {login}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            if answer.status != 201:
                raise RuntimeError(f"MKCALENDAR {url} answered HTTP {answer.status}")
        return url

    # -- the request log ---------------------------------------------------------------

    def mark(self) -> int:
        """A position in the request log: pass it to :meth:`requests` to see what came after."""
        return self.log_path.stat().st_size

    def requests(self, since: int = 0) -> list[Request]:
        """The requests received after ``since`` (a :meth:`mark`), oldest first."""
        with self.log_path.open("rb") as log:
            log.seek(since)
            text = log.read().decode("utf-8", errors="replace")
        found: list[Request] = []
        waiting: dict[str, int] = {}  # thread -> index of its request without an answer
        for line in _LOG_LINE.finditer(text):
            if line["kind"] == "request for":
                waiting[line["thread"]] = len(found)
                found.append(Request(line["method"], line["path"]))
            elif line["thread"] in waiting and line["status"]:
                index = waiting.pop(line["thread"])
                found[index] = replace(
                    found[index], status=int(line["status"]), seconds=float(line["seconds"])
                )
        return found
