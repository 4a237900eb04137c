"""Default business calendars and the SLA policies of the team's published table.

A "day" in a resolution target is one business day of the calendar (8 business hours on the default
Monday-Friday 09:00-17:00 calendar); targets below a day are business hours. Critical runs round the
clock (24x7): patient safety does not wait for Monday. See docs/sla-calendars.md.
"""

from django.db import migrations

from backline.tickets.defaults import install_defaults


def create_defaults(apps, schema_editor):
    install_defaults(apps.get_model("calendars", "Calendar"), apps.get_model("tickets", "SlaPolicy"))


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial"), ("calendars", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
