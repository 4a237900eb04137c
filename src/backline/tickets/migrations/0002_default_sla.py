"""Default business calendars and the SLA policies of the team's published table.

A "day" in a resolution target is one business day of the calendar (8 business hours on the default
Monday-Friday 09:00-17:00 calendar); targets below a day are business hours. Critical runs round the
clock (24x7): patient safety does not wait for Monday. See docs/sla-calendars.md.
"""

from django.db import migrations

DAY = 8 * 60  # business minutes in one business day of the default calendar

POLICIES = {
    # priority: (acknowledge minutes, resolve minutes, calendar)
    "critical": (60, 24 * 60, "24x7"),
    "high": (4 * 60, 2 * DAY, "US business hours"),
    "medium": (8 * 60, 5 * DAY, "US business hours"),
    "low": (DAY, 10 * DAY, "US business hours"),
}


def create_defaults(apps, schema_editor):
    Calendar = apps.get_model("calendars", "Calendar")
    SlaPolicy = apps.get_model("tickets", "SlaPolicy")
    business, _ = Calendar.objects.get_or_create(
        name="US business hours",
        defaults={
            "time_zone": "America/New_York",
            "is_24x7": False,
            "weekly_hours": {str(day): [["09:00", "17:00"]] for day in range(5)},
            "us_federal_holidays": True,
        },
    )
    always, _ = Calendar.objects.get_or_create(
        name="24x7",
        defaults={
            "time_zone": "America/New_York",
            "is_24x7": True,
            "weekly_hours": {},
            "us_federal_holidays": False,
        },
    )
    calendars = {"US business hours": business, "24x7": always}
    for priority, (ack, resolve, calendar) in POLICIES.items():
        SlaPolicy.objects.get_or_create(
            priority=priority,
            defaults={
                "acknowledge_minutes": ack,
                "resolve_minutes": resolve,
                "calendar": calendars[calendar],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial"), ("calendars", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
