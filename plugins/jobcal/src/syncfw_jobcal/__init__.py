"""syncfw-jobcal: the job calendar — persons, resources and appointments in SQL.

The library API is :class:`JobCalendar`; :class:`JobcalDriver` makes it a syncfw calendar
(``driver: jobcal`` in a profile); ``syncfw jobcal`` manages it from the command line.
"""

from __future__ import annotations

from .driver import JobcalDriver, JobcalOptions
from .records import Appointment, Assignee, JobcalError, Resource, StoreUnavailable
from .store import JobCalendar

__all__ = [
    "Appointment",
    "Assignee",
    "JobCalendar",
    "JobcalDriver",
    "JobcalError",
    "JobcalOptions",
    "Resource",
    "StoreUnavailable",
]
