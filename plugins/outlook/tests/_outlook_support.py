"""Helpers shared by the Outlook driver's emulator tests: a driver pointed at an emulator."""

from __future__ import annotations

from typing import Any

from graph_emulator import GraphEmulator

from syncfw.sdk.driver import DriverContext
from syncfw_outlook import OutlookDriver, OutlookOptions


def outlook_options(emulator: GraphEmulator, calendar: str, **options: Any) -> OutlookOptions:
    """Options for ``calendar`` of ``emulator``: the static test token and tiny backoffs."""
    settings: dict[str, Any] = {
        "calendar": calendar,
        "endpoint": emulator.endpoint,
        "auth": {"token": "test-token"},
        "backoff": 0.001,
        "max_backoff": 0.01,
        "timeout": 5,
    }
    return OutlookOptions.model_validate(settings | options)


def outlook_driver(emulator: GraphEmulator, calendar: str, **options: Any) -> OutlookDriver:
    """A driver on ``calendar`` (an id or a name) of ``emulator``."""
    return OutlookDriver(outlook_options(emulator, calendar, **options), DriverContext("outlook"))
