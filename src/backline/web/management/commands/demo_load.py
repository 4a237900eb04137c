from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from backline import demo
from backline.oncall.demo import demo_rotations


class Command(BaseCommand):
    help = "Load the demo world (people, teams, tickets). Safe to run twice."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--log-days", type=float, default=demo.DEMO_LOG_DAYS)
        parser.add_argument("--log-users", type=int, default=demo.DEMO_LOG_USERS)
        parser.add_argument("--log-rate", type=float, default=demo.DEMO_LOG_RATE)

    def handle(self, *args: Any, **options: Any) -> None:
        people = demo.demo_people()
        rotations = demo_rotations(people)
        created = demo.demo_tickets(people)
        self.stdout.write("Simulating a week of the health portal's logs (well under a minute)...")
        events, escalated, proposed = demo.demo_logs(
            people,
            days=options["log_days"],
            users=options["log_users"],
            rate=options["log_rate"],
        )
        self.stdout.write(f"Demo rotations created: {rotations}; demo tickets created: {created}")
        self.stdout.write(
            f"Log events loaded: {events}; tickets escalated from the simulated scenarios: {escalated}"
        )
        self.stdout.write(f"Incidents proposed by detection during the simulated week: {proposed}")
        self.stdout.write("")
        self.stdout.write(f"Demo sign-ins (password for all: {demo.DEMO_PASSWORD})")
        for person in demo.PEOPLE:
            roles = ", ".join(role.label for role in person.roles)
            self.stdout.write(f"  {person.username:<8} {person.name:<20} {roles}")
