"""Files that survive crashes: writes that leave the old or the new file, never a torn one.

:func:`atomic_write` writes a hidden temp file ``.<name>.<random>.tmp`` next to the target,
fsyncs it and renames it over the target, then fsyncs the folder. A SIGKILL between the
first write and the rename leaves that temp file behind: :func:`remove_stale_temp_files`
clears such leftovers once they are old enough that no writer can still be using them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from contextlib import suppress
from pathlib import Path

__all__ = ["STALE_AFTER", "Remembered", "atomic_write", "fsync_dir", "remove_stale_temp_files"]

STALE_AFTER = 600.0
"""Seconds after its last change that a temp file is taken as abandoned: no write of one
file takes that long, so whoever made it has died."""

_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.tmp\Z", re.DOTALL)


def atomic_write(
    path: Path, data: bytes, *, exclusive: bool = False, mode: int | None = None
) -> bool:
    """Replace (or, ``exclusive``, create) ``path`` with ``data`` so that a crash never
    leaves a torn file: temp file in the same folder, fsync, rename, fsync the folder.

    ``mode`` sets the file's permission bits (``0o600`` for secrets); None keeps those of
    the file replaced, or gives a new file 0o666 minus the umask.
    Returns False when ``exclusive`` and the file already exists (nothing written).
    """
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"  # see _TEMP_NAME
    # Created no wider than asked (the umask only takes bits away), so a secret is never
    # readable by others, not even between this open and the chmod below.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            with suppress(FileNotFoundError):
                os.chmod(tmp, path.stat().st_mode & 0o7777)
        if exclusive:
            try:
                os.link(tmp, path)  # unlike a rename, fails if path exists meanwhile
            except FileExistsError:
                return False
            except OSError:  # no hard links here (FAT, some network shares)
                os.replace(tmp, path)
            finally:
                with suppress(FileNotFoundError):
                    os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    return True


def fsync_dir(folder: Path) -> None:
    """Make a rename or delete in ``folder`` durable: until the folder itself is synced,
    a power cut may bring back the old entry."""
    flag = getattr(os, "O_DIRECTORY", None)
    if flag is None:  # Windows: renames are durable enough without it
        return
    fd = os.open(folder, os.O_RDONLY | flag)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temp_files(folder: Path, *, older_than: float = STALE_AFTER) -> list[Path]:
    """Delete the temp files :func:`atomic_write` left in ``folder`` (after a crash) that
    were last changed more than ``older_than`` seconds ago; return the ones deleted.

    Younger ones are kept: another process may be writing them right now. Files that
    vanish or cannot be deleted meanwhile are skipped, this is housekeeping only.
    """
    cutoff = time.time() - older_than
    try:
        entries = [e for e in os.scandir(folder) if _TEMP_NAME.match(e.name)]
    except OSError:
        return []
    removed = []
    for entry in entries:
        try:
            if not entry.is_file(follow_symlinks=False) or entry.stat().st_mtime > cutoff:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


class Remembered:
    """One entry of a small JSON map beside the state file: what a lookup found.

    Drivers keep here what a name resolved to (a calendar's id or URL), so a quiet run
    does not look it up again: ``{key: value}`` in ``state_dir / filename``, written
    atomically. Without a ``state_dir`` (a library call, a test) nothing is kept.
    """

    def __init__(self, state_dir: Path | None, filename: str, key: str) -> None:
        self.path = state_dir / filename if state_dir is not None else None
        self.key = key

    def get(self) -> str | None:
        found = self._read().get(self.key)
        return found if isinstance(found, str) else None

    def put(self, value: str) -> None:
        if self.path is None:
            return
        known = self._read()
        if known.get(self.key) != value:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps({**known, self.key: value}, indent=1).encode())

    def forget(self) -> None:
        known = self._read()
        if self.path is not None and known.pop(self.key, None) is not None:
            atomic_write(self.path, json.dumps(known, indent=1).encode())

    def _read(self) -> dict[str, object]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,127}")


def file_name_for(uid: str, suffix: str = ".ics") -> str:
    """The file name of an item in a folder: its UID when harmless, else a hash of it."""
    if _SAFE_NAME.fullmatch(uid) and not uid.lower().endswith(".tmp"):
        return f"{uid}{suffix}"
    return f"{hashlib.sha256(uid.encode()).hexdigest()[:40]}{suffix}"
