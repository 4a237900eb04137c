"""Stored business calendars. The arithmetic lives in businesstime.py (framework-free)."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from backline.calendars.businesstime import BusinessCalendar, us_federal_holidays

WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def default_hours() -> dict[str, list[list[str]]]:
    return {str(day): [["09:00", "17:00"]] for day in range(5)}


def _parse_hours(raw: Any) -> dict[int, list[tuple[time, time]]]:
    """``{"0": [["09:00", "17:00"]], ...}`` -> weekday -> [(open, close)]; "24:00" means midnight."""
    if not isinstance(raw, dict):
        raise ValidationError(
            {"weekly_hours": "must map weekday numbers 0-6 to lists of [open, close]"}
        )
    parsed: dict[int, list[tuple[time, time]]] = {}
    for key, intervals in raw.items():
        try:
            day = int(key)
        except (TypeError, ValueError):
            raise ValidationError(
                {"weekly_hours": f"{key!r} is not a weekday number 0-6"}
            ) from None
        if not 0 <= day <= 6 or not isinstance(intervals, list):
            raise ValidationError({"weekly_hours": f"weekday {key!r} must be 0-6 with a list"})
        parsed[day] = []
        for pair in intervals:
            try:
                opens, closes = pair
                start = time.fromisoformat(opens)
                end = time(0, 0) if closes == "24:00" else time.fromisoformat(closes)
            except (TypeError, ValueError):
                raise ValidationError(
                    {"weekly_hours": f"{pair!r} on {WEEKDAY_NAMES[day]} is not [HH:MM, HH:MM]"}
                ) from None
            parsed[day].append((start, end))
    return parsed


class Calendar(models.Model):
    """Working hours in one time zone, with holidays; or round the clock (24x7)."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    is_24x7 = models.BooleanField("24x7", default=False)
    weekly_hours = models.JSONField(
        default=default_hours,
        help_text='Weekday (0 = Monday) to open intervals, e.g. {"0": [["09:00", "17:00"]]}.',
    )
    us_federal_holidays = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            self.to_business_calendar(years=range(2000, 2001))
        except ValueError as exc:
            raise ValidationError({"weekly_hours": str(exc)}) from None

    def holiday_dates(self, years: range) -> list[date]:
        found: list[date] = [h.date for h in self.holidays.all()]
        if self.us_federal_holidays:
            found += us_federal_holidays(years)
        return found

    def to_business_calendar(self, years: range | None = None) -> BusinessCalendar:
        if self.is_24x7:
            return BusinessCalendar.always_open(self.time_zone)
        span = years or range(date.today().year - 2, date.today().year + 3)
        return BusinessCalendar(
            tz=self.time_zone,
            weekly_hours=_parse_hours(self.weekly_hours),
            holidays=self.holiday_dates(span) if self.pk else [],
        )


class Holiday(models.Model):
    """A custom day off on one calendar, in addition to (or instead of) the federal ones."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="unique_calendar_holiday")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date})"
