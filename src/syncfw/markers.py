"""The hook markers: ``@hookimpl`` on a plugin's hook functions, ``@hookspec`` on syncfw's.

The bottom layer with :mod:`syncfw.model` and :mod:`syncfw.errors`: a driver or plugin
that only registers itself imports this and nothing of syncfw's machinery.
"""

from __future__ import annotations

import pluggy

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "syncfw"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
