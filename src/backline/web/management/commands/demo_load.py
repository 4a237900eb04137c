from typing import Any

from django.core.management.base import BaseCommand

from backline import demo
from backline.oncall.demo import demo_rotations


class Command(BaseCommand):
    help = "Load the demo world (people, teams, tickets). Safe to run twice."

    def handle(self, *args: Any, **options: Any) -> None:
        people = demo.demo_people()
        rotations = demo_rotations(people)
        created = demo.demo_tickets(people)
        self.stdout.write(f"Demo rotations created: {rotations}; demo tickets created: {created}")
        self.stdout.write("")
        self.stdout.write(f"Demo sign-ins (password for all: {demo.DEMO_PASSWORD})")
        for person in demo.PEOPLE:
            roles = ", ".join(role.label for role in person.roles)
            self.stdout.write(f"  {person.username:<8} {person.name:<20} {roles}")
