"""The default calendars and SLA policies (the team's published table), as data.

Used by the data migration that installs them and by tests that empty the database (transactional
browser tests) and need them back. See docs/sla-calendars.md for how a "day" is counted.
"""

from __future__ import annotations

from typing import Any

DAY = 8 * 60  # business minutes in one business day of the default calendar

BUSINESS_HOURS = "US business hours"
ROUND_THE_CLOCK = "24x7"

CALENDARS: dict[str, dict[str, Any]] = {
    BUSINESS_HOURS: {
        "time_zone": "America/New_York",
        "is_24x7": False,
        "weekly_hours": {str(day): [["09:00", "17:00"]] for day in range(5)},
        "us_federal_holidays": True,
    },
    ROUND_THE_CLOCK: {
        "time_zone": "America/New_York",
        "is_24x7": True,
        "weekly_hours": {},
        "us_federal_holidays": False,
    },
}

# priority: (acknowledge minutes, resolve minutes, calendar name)
POLICIES: dict[str, tuple[int, int, str]] = {
    "critical": (60, 24 * 60, ROUND_THE_CLOCK),
    "high": (4 * 60, 2 * DAY, BUSINESS_HOURS),
    "medium": (8 * 60, 5 * DAY, BUSINESS_HOURS),
    "low": (DAY, 10 * DAY, BUSINESS_HOURS),
}


def install_defaults(calendar_model: Any, policy_model: Any) -> None:
    """Create the default calendars and policies that are missing (models passed in, so the
    migration can hand over its historical models)."""
    calendars = {
        name: calendar_model.objects.get_or_create(name=name, defaults=fields)[0]
        for name, fields in CALENDARS.items()
    }
    for priority, (ack, resolve, calendar) in POLICIES.items():
        policy_model.objects.get_or_create(
            priority=priority,
            defaults={
                "acknowledge_minutes": ack,
                "resolve_minutes": resolve,
                "calendar": calendars[calendar],
            },
        )
