"""HTML forms of the on-call pages. They check shapes (types, choices, known usernames); the
services check the rules (who may override whom, who is scheduled, valid time zones) and their
``InvalidInput`` errors are attached to these forms by the views.

Date-times are ``datetime-local`` inputs read in the viewer's time zone (``staff_view`` activates
it), so a person types the wall-clock time they see on the schedule page.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django import forms
from django.db.models import QuerySet

from backline.accounts.models import Team, User
from backline.calendars.models import Calendar
from backline.oncall.models import WEEKDAYS, OncallRole, Rotation, ShiftUnit
from backline.oncall.services import ROTATION_FIELDS
from backline.tickets.forms import LocalDateTimeInput

# A fairness window longer than this is refused by the selector; say so on the form instead.
MAX_REPORT_DAYS = 400

ONCALL_PERSON_ROLES = [role.person_role.value for role in OncallRole]


def oncall_people() -> QuerySet[User]:
    """Active people who can take on-call turns (hold Tier 3, Monitoring or Investigator)."""
    return (
        User.objects.filter(is_active=True, role_grants__role__in=ONCALL_PERSON_ROLES)
        .distinct()
        .order_by("display_name", "username")
    )


def active_rotation_choices() -> QuerySet[Rotation]:
    return Rotation.objects.filter(is_active=True).order_by("role", "name")


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A person, shown as "Name (username)" so two people with one name stay distinguishable."""

    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, User)
        return f"{obj.name} ({obj.username})" if obj.name != obj.username else obj.username


class RotationChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, Rotation)
        return f"{obj.name} ({obj.role_label})"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


def _usernames(value: str) -> list[str]:
    # Commas are accepted too: people paste "erin, frank" as often as one per line.
    return [name.strip() for line in value.splitlines() for name in line.split(",") if name.strip()]


# --- schedule and report filters ---------------------------------------------------------------


class ScheduleQueryForm(forms.Form):
    """The schedule page's view and first day (both optional; bad values fall back with an error)."""

    view = forms.ChoiceField(
        choices=[("week", "Week"), ("month", "Month")], required=False, initial="week"
    )
    start = forms.DateField(label="Starting", required=False, widget=DateInput())


class FairnessForm(forms.Form):
    """Which period (whole days in the viewer's zone, both inclusive) and role the report covers."""

    role = forms.ChoiceField(
        choices=[("", "All roles"), *OncallRole.choices], required=False, label="Role"
    )
    start = forms.DateField(label="From", widget=DateInput())
    end = forms.DateField(label="To (inclusive)", widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, date) and isinstance(end, date):
            if end < start:
                self.add_error("end", "The last day must be on or after the first.")
            elif (end - start).days + 1 > MAX_REPORT_DAYS:
                self.add_error("end", f"At most {MAX_REPORT_DAYS} days.")
        return data


# --- rotations --------------------------------------------------------------------------------


class RotationForm(forms.Form):
    """Every field of a rotation plus its members in turn order (usernames, one per line)."""

    name = forms.CharField(max_length=100)
    role = forms.ChoiceField(label="On-call role", choices=OncallRole.choices)
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"))
    time_zone = forms.CharField(
        max_length=64,
        initial="America/New_York",
        help_text="IANA zone of the handoff time, e.g. America/New_York or America/Chicago.",
    )
    shift_count = forms.IntegerField(
        label="Turn length", min_value=1, initial=1, help_text="How many units one turn lasts."
    )
    shift_unit = forms.ChoiceField(
        label="Turn unit", choices=ShiftUnit.choices, initial=ShiftUnit.WEEKS
    )
    handoff_weekday = forms.TypedChoiceField(
        label="Handoff weekday",
        choices=WEEKDAYS,
        coerce=int,
        initial=3,
        help_text="Used when turns last whole weeks.",
    )
    handoff_time = forms.TimeField(
        label="Handoff time",
        initial=time(9),
        widget=TimeInput(),
        help_text="Local wall-clock time in the rotation's zone; it stays put across DST changes.",
    )
    start_date = forms.DateField(
        widget=DateInput(),
        help_text="Weekly turns start at the first handoff weekday on or after this date.",
    )
    coverage = forms.ModelChoiceField(
        label="Coverage calendar",
        queryset=Calendar.objects.order_by("name"),
        required=False,
        empty_label="Round the clock (24x7)",
        help_text="When the rotation is expected to answer.",
    )
    members = forms.CharField(
        label="Members in turn order",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Usernames, one per line; the first takes the first turn.",
    )

    @classmethod
    def initial_for(cls, rotation: Rotation) -> dict[str, Any]:
        """Initial values that show a stored rotation as it is."""
        initial: dict[str, Any] = {name: getattr(rotation, name) for name in ROTATION_FIELDS}
        initial["team"] = rotation.team_id
        initial["coverage"] = rotation.coverage_id
        initial["members"] = "\n".join(
            m.user.username for m in rotation.members.select_related("user").order_by("position")
        )
        return initial

    def clean_members(self) -> list[User]:
        names = _usernames(self.cleaned_data.get("members") or "")
        found = {u.username: u for u in User.objects.filter(username__in=names)}
        unknown = [name for name in names if name not in found]
        if unknown:
            raise forms.ValidationError(f"Unknown usernames: {', '.join(unknown)}.")
        return [found[name] for name in names]

    def service_fields(self) -> dict[str, Any]:
        """The cleaned values under the names `rotation_create` / `rotation_update` take."""
        return {name: self.cleaned_data[name] for name in ROTATION_FIELDS}


# --- overrides and swaps ----------------------------------------------------------------------


class OverrideForm(forms.Form):
    """Put someone on call for a window. Engineers hand over their own shifts, so for them the
    "replaces" field is not shown and the view fills in the engineer themselves."""

    rotation = RotationChoiceField(queryset=Rotation.objects.none())
    person = PersonChoiceField(
        label="Who covers", queryset=User.objects.none(), help_text="The person on call instead."
    )
    replaces = PersonChoiceField(
        label="Whom they replace",
        queryset=User.objects.none(),
        required=False,
        empty_label="Whoever is scheduled",
        help_text="With a person chosen, the override applies only while that person is scheduled.",
    )
    start = forms.DateTimeField(widget=LocalDateTimeInput())
    end = forms.DateTimeField(widget=LocalDateTimeInput())
    reason = forms.CharField(
        max_length=200, required=False, help_text="Vacation, sick day, trade ... (optional)."
    )

    def __init__(self, *args: Any, manager: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.manager = manager
        self.fields["rotation"].queryset = active_rotation_choices()  # type: ignore[attr-defined]
        people = oncall_people()
        self.fields["person"].queryset = people  # type: ignore[attr-defined]
        if manager:
            self.fields["replaces"].queryset = people  # type: ignore[attr-defined]
        else:
            del self.fields["replaces"]


class SwapForm(forms.Form):
    """Ask a colleague to take a window of your shifts, optionally taking one of theirs back."""

    rotation = RotationChoiceField(queryset=Rotation.objects.none())
    counterpart = PersonChoiceField(label="Whom you ask", queryset=User.objects.none())
    start = forms.DateTimeField(label="Your window starts", widget=LocalDateTimeInput())
    end = forms.DateTimeField(label="Your window ends", widget=LocalDateTimeInput())
    return_start = forms.DateTimeField(
        label="Return window starts",
        required=False,
        widget=LocalDateTimeInput(),
        help_text="Optional: a window of theirs you take in exchange.",
    )
    return_end = forms.DateTimeField(
        label="Return window ends", required=False, widget=LocalDateTimeInput()
    )
    message = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rotation"].queryset = active_rotation_choices().filter(  # type: ignore[attr-defined]
            members__user=user
        )
        self.fields["counterpart"].queryset = oncall_people().exclude(pk=user.pk)  # type: ignore[attr-defined]


# --- handoffs and feeds -----------------------------------------------------------------------


class HandoffNotesForm(forms.Form):
    notes = forms.CharField(
        label="Notes for the incoming engineer",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What they need to know beyond the report: context, promises made, next steps.",
    )


class FeedForm(forms.Form):
    """What a calendar feed shows: the person's own shifts, a rotation, or a colleague's shifts."""

    subject = forms.ChoiceField(label="Feed of")
    name = forms.CharField(
        max_length=100, required=False, help_text="To tell your feeds apart (optional)."
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rotations = [(f"rotation:{r.pk}", f"Rotation: {r.name}") for r in active_rotation_choices()]
        people = [
            (f"person:{p.pk}", f"Shifts of {p.name}") for p in oncall_people().exclude(pk=user.pk)
        ]
        self.fields["subject"].choices = [  # type: ignore[attr-defined]
            (f"person:{user.pk}", "My own shifts"),
            *rotations,
            *people,
        ]

    def subject_parts(self) -> tuple[str, int]:
        kind, _, pk = str(self.cleaned_data["subject"]).partition(":")
        return kind, int(pk)
