"""The corpus test's known differences: (file, mode) -> (kind, one-line reason).

Kinds of *design* (the case passes, checking the difference is the one explained):

- ``NOT_A_CALENDAR``: the file is a bare component (VEVENT, VTODO, VALARM...) without the
  VCALENDAR RFC 5545 requires; syncfw refuses it as a whole, and says so.
- ``REFUSED``: syncfw refuses some events and reports each; the rest equal the reference.
- ``OMITTED``: syncfw leaves out instances the reference lists (and reports nothing).
- ``LENIENT``: the reference cannot read the file; syncfw can (and does not crash).

``BUG``: a known bug (issue 10, or "new:" if found by this test), a strict xfail, so fixing
it fails the test until the entry goes. An optional third element is the design kind the
case must satisfy once the bug is fixed (identical to the reference if none).
"""

from __future__ import annotations

BUG = "bug"
NOT_A_CALENDAR = "not a calendar"
REFUSED = "refused"
OMITTED = "omitted"
LENIENT = "lenient"


NO_UID = (
    "a VEVENT without UID is refused and reported (RFC 5545 requires one; it is syncfw's identity)"
)
SHARED_UID = "VEVENTs sharing a UID without RECURRENCE-ID are refused as ambiguous and reported"
ENDS_BEFORE = "an event that ends before it starts is refused and reported"
BAD_LINE = "an event with a line that cannot be parsed is refused and reported"
DATE_HOURS = (
    "a DATE start with a DURATION of hours (DURATION:PT10H) is refused and reported: RFC 5545 "
    "wants whole days, and neither a zero-length day nor a guessed time of day is what it means"
)
MIXED = "a DATE start with a DATE-TIME end (or the reverse) is refused and reported"
LENIENT_NO_DTSTART = (
    "the reference refuses the file (a VEVENT without DTSTART); syncfw syncs the rest, reports it"
)

EXPECTED: dict[tuple[str, str], tuple[str, ...]] = {
    # --- kind (a): by design
    ("recurring_ical_events/issue_201_test_matrix.ics", "expand"): (REFUSED, DATE_HOURS),
    ("recurring_ical_events/issue_201_test_matrix.ics", "series"): (REFUSED, DATE_HOURS),
    ("recurring_ical_events/issue_18_cancel_status.ics", "expand"): (
        OMITTED,
        "cancelled instances are omitted by design",
    ),
    ("icalendar/calendars/created_calendar_with_unicode_fields.ics", "expand"): (
        LENIENT,
        LENIENT_NO_DTSTART,
    ),
    ("icalendar/calendars/created_calendar_with_unicode_fields.ics", "series"): (
        LENIENT,
        LENIENT_NO_DTSTART,
    ),
    ("icalendar/calendars/multiple_calendar_components.ics", "expand"): (
        LENIENT,
        "the reference refuses two VCALENDARs in one file; syncfw reads them",
    ),
    ("icalendar/calendars/multiple_calendar_components.ics", "series"): (
        LENIENT,
        "the reference refuses two VCALENDARs in one file; syncfw reads them",
    ),
    ("icalendar/calendars/parsing_error_in_UTC_offset.ics", "expand"): (
        LENIENT,
        "the reference refuses a broken VTIMEZONE no event uses; syncfw has nothing to sync",
    ),
    ("icalendar/calendars/parsing_error_in_UTC_offset.ics", "series"): (
        LENIENT,
        "the reference refuses a broken VTIMEZONE no event uses; syncfw has nothing to sync",
    ),
    ("icalendar/calendars/rfc_7529.ics", "series"): (
        LENIENT,
        "RSCALE rule (RFC 7529), unreadable to the reference: series mode keeps it as written",
    ),
    ("recurring_ical_events/bad_rrule_missing_until_event.ics", "series"): (
        LENIENT,
        "a rule the reference refuses (UNTIL= empty): series mode keeps it as written",
    ),
    ("icalendar/calendars/issue_156_RDATE_with_PERIOD_TZID_khal.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("icalendar/calendars/issue_156_RDATE_with_PERIOD_TZID_khal.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("icalendar/calendars/issue_168_input.ics", "expand"): (
        REFUSED,
        BAD_LINE,
    ),
    ("icalendar/calendars/issue_168_input.ics", "series"): (
        REFUSED,
        BAD_LINE,
    ),
    ("icalendar/calendars/issue_237_fail_to_parse_timezone_with_non_ascii_tzid.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("icalendar/calendars/issue_237_fail_to_parse_timezone_with_non_ascii_tzid.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("icalendar/calendars/issue_722_missing_VTIMEZONE_custom.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("icalendar/calendars/issue_722_missing_VTIMEZONE_custom.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("icalendar/calendars/timezone_rdate.ics", "expand"): (
        REFUSED,
        BAD_LINE,
    ),
    ("icalendar/calendars/timezone_rdate.ics", "series"): (
        REFUSED,
        BAD_LINE,
    ),
    ("recurring_ical_events/alarm_absolute_edited.ics", "expand"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/alarm_absolute_edited.ics", "series"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/duration.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/duration.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/end_before_start_event.ics", "expand"): (
        REFUSED,
        ENDS_BEFORE,
    ),
    ("recurring_ical_events/end_before_start_event.ics", "series"): (
        REFUSED,
        ENDS_BEFORE,
    ),
    ("recurring_ical_events/issue_107_omitting_last_event.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/issue_107_omitting_last_event.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/issue_113_period_rdate_duration.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/issue_113_period_rdate_duration.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/issue_117_until_before_dtstart.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/issue_117_until_before_dtstart.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/issue_128_only_first_event.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/issue_128_only_first_event.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/issue_132_swapped_start_and_end.ics", "expand"): (
        REFUSED,
        ENDS_BEFORE,
    ),
    ("recurring_ical_events/issue_132_swapped_start_and_end.ics", "series"): (
        REFUSED,
        ENDS_BEFORE,
    ),
    ("recurring_ical_events/issue_148_edge_case_1.ics", "expand"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/issue_148_edge_case_1.ics", "series"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/issue_148_edge_case_2.ics", "expand"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/issue_148_edge_case_2.ics", "series"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/issue_148_exdate_and_rdate_updated.ics", "expand"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/issue_148_exdate_and_rdate_updated.ics", "series"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/issue_148_ignored_exdate.ics", "expand"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/issue_148_ignored_exdate.ics", "series"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/issue_15_duplicated_events.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/issue_15_duplicated_events.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/issue_163_deleted_modification.ics", "expand"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/issue_163_deleted_modification.ics", "series"): (
        REFUSED,
        SHARED_UID,
    ),
    ("recurring_ical_events/issue_173_only_modifications_error.ics", "expand"): (
        REFUSED,
        "overrides without their series are synced, and reported as orphans",
    ),
    ("recurring_ical_events/issue_173_only_modifications_error.ics", "series"): (
        REFUSED,
        "overrides without their series are synced, and reported as orphans",
    ),
    ("recurring_ical_events/issue_201_mixed_datetime_and_date.ics", "expand"): (
        REFUSED,
        MIXED,
    ),
    ("recurring_ical_events/issue_201_mixed_datetime_and_date.ics", "series"): (
        REFUSED,
        MIXED,
    ),
    ("recurring_ical_events/rdate.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/rdate.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/rdate2.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/rdate2.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/rdate_hackerpublicradio.ics", "expand"): (
        REFUSED,
        NO_UID,
    ),
    ("recurring_ical_events/rdate_hackerpublicradio.ics", "series"): (
        REFUSED,
        NO_UID,
    ),
    ("icalendar/alarms/example.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/alarms/example.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/alarms/rfc_5545_absolute_alarm_example.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/alarms/rfc_5545_absolute_alarm_example.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/alarms/rfc_5545_end.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/alarms/rfc_5545_end.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/alarms/start_date.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/alarms/start_date.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/availabilities/rfc_7953_1.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/availabilities/rfc_7953_1.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/availabilities/rfc_7953_2.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/availabilities/rfc_7953_2.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/calendars/issue_178_component_with_invalid_name_represented.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/calendars/issue_178_component_with_invalid_name_represented.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/calendars/issue_178_custom_component_contains_other.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/calendars/issue_178_custom_component_contains_other.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/event_with_recurrence.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/event_with_recurrence.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/event_with_recurrence_exdates_on_different_lines.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/event_with_recurrence_exdates_on_different_lines.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/event_with_unicode_fields.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/event_with_unicode_fields.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_101_icalendar_chokes_on_umlauts_in_organizer.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_101_icalendar_chokes_on_umlauts_in_organizer.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_104_mark_events_broken.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_104_mark_events_broken.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_112_missing_tzinfo_on_exdate.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_112_missing_tzinfo_on_exdate.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_156_RDATE_with_PERIOD.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_156_RDATE_with_PERIOD.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_156_RDATE_with_PERIOD_list.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_156_RDATE_with_PERIOD_list.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_157_removes_trailing_semicolon.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_157_removes_trailing_semicolon.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_184_broken_representation_of_period.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_184_broken_representation_of_period.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_355_url_escaping.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_355_url_escaping.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_355_url_escaping_2.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_355_url_escaping_2.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_53_description_parsed_properly.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_53_description_parsed_properly.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_70_rrule_causes_attribute_error.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/issue_70_rrule_causes_attribute_error.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/rfc_7265_example_4.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/rfc_7265_example_4.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/rfc_9074_example_1.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/rfc_9074_example_1.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/rfc_9074_example_2.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/rfc_9074_example_2.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/rfc_9074_example_3.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/rfc_9074_example_3.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/rfc_9074_example_4.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/events/rfc_9074_example_4.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/freebusy/example.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/freebusy/example.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/journals/example.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/journals/example.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/timezones/issue_237_brazilia_standard.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/timezones/issue_237_brazilia_standard.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/timezones/issue_53_tzid_parsed_properly.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/timezones/issue_53_tzid_parsed_properly.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/timezones/issue_55_parse_error_on_utc_offset_with_seconds.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/timezones/issue_55_parse_error_on_utc_offset_with_seconds.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/timezones/pacific_fiji.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/timezones/pacific_fiji.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/todos/example.ics", "expand"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
    ("icalendar/todos/example.ics", "series"): (
        NOT_A_CALENDAR,
        "a bare VCALENDAR without VCALENDAR is refused whole",
    ),
}
