"""Kill a ``syncfw run`` with SIGKILL in the middle of its writes, for drivers' crash tests.

A driver must never duplicate or lose an event wherever a run dies. :func:`run_killed`
runs ``python -m syncfw run PROFILE`` in a child process and kills it either

- right after the driver yielded its ``kill_at``-th write result (the provider has done
  the write, syncfw has not recorded it yet), through a plugin module the child loads by
  ``SYNCFW_PLUGINS`` that wraps the driver class's ``write``; or
- while a loopback emulator answers the ``kill_in_part``-th write inside a batch (its
  request in flight), when an ``emulator`` with the emulators' ``handle(method, target,
  headers, raw, in_batch)`` entry point is given.

The test then runs syncfw normally and checks that the calendar is exact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["run_killed"]

_PLUGIN = """\
# Loaded by SYNCFW_PLUGINS in the child process only (syncfw.testing.killing).
import os, signal
from {module} import {name} as Driver

AT = int(os.environ.get("KILL_AT", "0"))
write = Driver.write
results = 0

def killing_write(self, ops):
    global results
    for result in write(self, ops):
        results += 1
        if results == AT:
            os.kill(os.getpid(), signal.SIGKILL)
        yield result

Driver.write = killing_write
"""


def run_killed(
    profile: Path,
    driver: type[Any],
    workdir: Path,
    *,
    kill_at: int = 0,
    kill_in_part: int = 0,
    emulator: Any = None,
    timeout: float = 60,
) -> None:
    """Run syncfw on ``profile`` in a child and SIGKILL it as described in the module.

    ``driver`` is the driver class to wrap; ``workdir`` gets the child's plugin module.
    Raises AssertionError when the child was not killed (it finished first).
    """
    (workdir / "syncfw_killing_plugin.py").write_text(
        _PLUGIN.format(module=driver.__module__, name=driver.__name__)
    )
    env = {
        **os.environ,
        "SYNCFW_PLUGINS": "syncfw_killing_plugin",
        "KILL_AT": str(kill_at),
        "PYTHONPATH": os.pathsep.join([str(workdir), *sys.path]),
    }
    command = [sys.executable, "-m", "syncfw", "run", str(profile), "--json"]
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    parts = 0
    if emulator is not None:
        serve = emulator.handle

        def handle(
            method: str, target: str, headers: dict[str, str], raw: bytes, in_batch: bool = False
        ) -> Any:
            nonlocal parts
            reply = serve(method, target, headers, raw, in_batch)
            if in_batch and method != "GET":
                parts += 1
                if parts == kill_in_part:
                    os.kill(child.pid, signal.SIGKILL)
            return reply

        emulator.handle = handle
    try:
        out, err = child.communicate(timeout=timeout)
    finally:
        if emulator is not None:
            del emulator.handle
    assert child.returncode == -signal.SIGKILL, f"not killed: {out}{err}"
