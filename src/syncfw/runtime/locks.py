"""One run per pair at a time, also across processes: an flock()ed file per pair.

The lock files live in ``locks/`` beside the state file. The operating system
drops a lock when its process dies, so a killed run never leaves a pair locked.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from pathlib import Path
from types import TracebackType

from syncfw.errors import PairBusy

__all__ = ["PairLock"]


class PairLock:
    """``with PairLock(state_path, "jobs-to-master"):`` — raises :class:`PairBusy` if held."""

    def __init__(self, state_path: Path, pair: str) -> None:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", pair)[:60]
        digest = hashlib.blake2b(pair.encode(), digest_size=4).hexdigest()
        self.pair = pair
        self.path = state_path.parent / "locks" / f"{safe}-{digest}.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise PairBusy(self.pair) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> PairLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
