"""The example runs from its source, installed or not: `make test` of the root project
collects these tests (testpaths), and nothing has to pip-install syncfw-csvcal first."""

from __future__ import annotations

import sys
from pathlib import Path

SOURCE = str(Path(__file__).resolve().parents[1] / "src")
if SOURCE not in sys.path:
    sys.path.insert(0, SOURCE)
