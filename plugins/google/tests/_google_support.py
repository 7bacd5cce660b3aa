"""Helpers shared by the driver's emulator tests: a GoogleDriver pointed at an emulator."""

from __future__ import annotations

from typing import Any

from emulator import GoogleEmulator

from syncfw.sdk.driver import DriverContext
from syncfw_google import GoogleDriver, GoogleOptions


def google_driver(emulator: GoogleEmulator, calendar: str, **options: Any) -> GoogleDriver:
    """A driver on ``calendar`` of ``emulator`` with the static test token and tiny backoffs."""
    settings: dict[str, Any] = {
        "calendar": calendar,
        "endpoint": emulator.endpoint,
        "auth": {"token": "test-token"},
        "backoff": 0.001,
        "max_backoff": 0.01,
        "timeout": 5,
    }
    return GoogleDriver(GoogleOptions.model_validate(settings | options), DriverContext("google"))
