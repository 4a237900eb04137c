"""HTML forms for tickets. They check shapes (types, lengths, choices); the services check the rules.

Rule errors (missing escalation context, illegal transitions) come back from the services as
``InvalidInput`` / ``Conflict`` and are attached to these forms by the views, so the two layers
never disagree about what is required.
"""

from __future__ import annotations

from typing import Any

from django import forms

from backline.accounts.models import User
from backline.tickets.choices import (
    PRIORITY_MEANING,
    Area,
    Credential,
    EntryCriterion,
    Priority,
    RootCause,
    SlaState,
    Status,
    Tier,
    Upstream,
)
from backline.tickets.models import Ticket

YES_NO_UNKNOWN = [("", "Not known"), ("yes", "Yes"), ("no", "No")]


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _yes_no_initial(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class LocalDateTimeInput(forms.DateTimeInput):
    """A ``datetime-local`` input; Django reads and shows its value in the active (viewer's) zone."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _priority_help() -> str:
    return "; ".join(
        f"{Priority(p).label}: {meaning.lower()}" for p, meaning in PRIORITY_MEANING.items()
    )


class TicketContextForm(forms.Form):
    """Every field of the team's escalation template, used to create a ticket and to escalate one."""

    title = forms.CharField(
        max_length=200,
        help_text="Start with the area prefix the team uses: RX - , SM - , MR - .",
    )
    description = forms.CharField(widget=forms.Textarea)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.MEDIUM)
    affected_user_id = forms.CharField(
        label="Affected user identifier",
        required=False,
        max_length=64,
        help_text=(
            "ICN (##########V######), user UUID or EDIPI. Protected: masked for most roles and "
            "every unmasked view is audited. Required for Tier 3."
        ),
    )
    area = forms.ChoiceField(label="Portal area", choices=Area.choices, initial=Area.OTHER)
    suspected_upstream = forms.ChoiceField(choices=Upstream.choices, initial=Upstream.UNKNOWN)
    occurred_at = forms.DateTimeField(
        label="When it happened (or the start of a window)",
        required=False,
        widget=LocalDateTimeInput(),
        help_text="In your time zone. Required for Tier 3.",
    )
    occurred_until = forms.DateTimeField(
        label="End of the window",
        required=False,
        widget=LocalDateTimeInput(),
        help_text="Leave empty when it happened at one moment.",
    )
    device = forms.CharField(required=False, max_length=100)
    browser = forms.CharField(required=False, max_length=100)
    os = forms.CharField(label="Operating system", required=False, max_length=100)
    credential = forms.ChoiceField(
        label="Sign-in credential",
        choices=[("", "Not known"), *Credential.choices],
        required=False,
    )
    oracle_health_site = forms.TypedChoiceField(
        label="Is the user at an Oracle Health site?",
        choices=YES_NO_UNKNOWN,
        coerce=_yes_no,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    url = forms.URLField(label="Full URL", required=False, max_length=500, assume_scheme="https")
    external_refs = forms.CharField(
        label="External references",
        required=False,
        widget=forms.Textarea,
        help_text="Help-desk or service-desk ticket numbers, one per line (e.g. HRC-HD-Y4-0000447389).",
    )
    steps_to_reproduce = forms.CharField(required=False, widget=forms.Textarea)
    expected_behaviour = forms.CharField(required=False, widget=forms.Textarea)
    actual_behaviour = forms.CharField(required=False, widget=forms.Textarea)
    troubleshooting_steps = forms.CharField(
        label="Troubleshooting steps already performed",
        required=False,
        widget=forms.Textarea,
        help_text="One step per line. At least one is required to escalate to Tier 2 or Tier 3.",
    )
    entry_criterion = forms.ChoiceField(
        label="Tier 3 entry criterion",
        choices=[("", "- Select -"), *EntryCriterion.choices],
        required=False,
        help_text="Which reason for Tier 3 applies. Required for Tier 3.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["priority"].help_text = _priority_help()

    @classmethod
    def initial_for(cls, ticket: Ticket) -> dict[str, Any]:
        """The ticket's current context as initial values (lists one per line, identifier withheld)."""
        initial: dict[str, Any] = {name: getattr(ticket, name) for name in cls.base_fields}
        initial["external_refs"] = "\n".join(ticket.external_refs or [])
        initial["troubleshooting_steps"] = "\n".join(ticket.troubleshooting_steps or [])
        initial["oracle_health_site"] = _yes_no_initial(ticket.oracle_health_site)
        # Never echo the protected identifier into a form: leaving it empty keeps the stored one.
        initial["affected_user_id"] = ""
        return initial

    def context(self) -> dict[str, Any]:
        """The cleaned values in the shape ``ticket_create`` / ``ticket_escalate`` take."""
        data = dict(self.cleaned_data)
        data.pop("tier", None)
        data["external_refs"] = _lines(data.get("external_refs") or "")
        data["troubleshooting_steps"] = _lines(data.get("troubleshooting_steps") or "")
        return data


class TicketCreateForm(TicketContextForm):
    tier = forms.TypedChoiceField(
        label="Open at",
        choices=[("", "My own tier"), *Tier.choices],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="A ticket starts at your tier unless you choose a lower one; escalate it later.",
    )

    field_order = ["tier"]


class QueueFilterForm(forms.Form):
    """The queue's filters. Its state lives in the URL (a GET form), so a filtered queue can be shared."""

    status = forms.ChoiceField(
        choices=[("", "Any open status"), *Status.choices, ("all", "Any, including closed")],
        required=False,
    )
    priority = forms.ChoiceField(choices=[("", "Any priority"), *Priority.choices], required=False)
    assignee = forms.ChoiceField(required=False)
    area = forms.ChoiceField(choices=[("", "Any area"), *Area.choices], required=False)
    upstream = forms.ChoiceField(
        label="Suspected upstream",
        choices=[("", "Any upstream"), *Upstream.choices],
        required=False,
    )
    sla = forms.ChoiceField(
        label="SLA state",
        choices=[
            ("", "Any SLA state"),
            (SlaState.ON_TRACK.value, SlaState.ON_TRACK.label),
            (SlaState.AT_RISK.value, SlaState.AT_RISK.label),
            (SlaState.BREACHED.value, SlaState.BREACHED.label),
            (SlaState.PAUSED.value, SlaState.PAUSED.label),
        ],
        required=False,
    )
    text = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    sort = forms.ChoiceField(
        choices=[
            ("due", "SLA due, soonest first"),
            ("-due", "SLA due, latest first"),
            ("priority", "Priority"),
            ("-created", "Newest first"),
            ("created", "Oldest first"),
            ("updated", "Recently updated"),
        ],
        required=False,
    )

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ChoiceField)
        assignee.choices = [
            ("", "Anyone"),
            ("none", "Unassigned"),
            *[(person.username, person.name) for person in people],
        ]

    def filter_values(self) -> dict[str, Any]:
        """Keyword arguments for ``QueueFilters`` from the fields that are valid."""
        data = getattr(self, "cleaned_data", {})
        values: dict[str, Any] = {}
        status = data.get("status") or ""
        if status == "all":
            values["include_closed"] = True
        elif status:
            values["status"] = (status,)
        for name in ("priority", "area", "upstream", "sla"):
            if data.get(name):
                values[name] = (data[name],)
        if data.get("assignee"):
            values["assignee"] = data["assignee"]
        if data.get("text"):
            values["text"] = data["text"].strip()
        if data.get("sort"):
            values["sort"] = data["sort"]
        return values

    @property
    def is_filtered(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return any(data.get(name) for name in self.fields if name != "sort")


def _text(label: str, *, required: bool = True, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, required=required, widget=forms.Textarea, help_text=help_text
    )


class CommentForm(forms.Form):
    body = _text("Comment")
    visibility = forms.ChoiceField(
        choices=[
            ("shared", "Shared with Tier 1 and Tier 2"),
            ("internal", "Internal (Tier 3 and up)"),
        ],
        initial="shared",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, allow_internal: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not allow_internal:
            # People who may not write internal notes get no choice to make.
            del self.fields["visibility"]

    @property
    def internal(self) -> bool:
        return bool(self.cleaned_data.get("visibility") == "internal")


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="New status")
    note = _text(
        "Note",
        required=False,
        help_text="For Waiting on partner, name the partner team (e.g. MHV back end, VistA, Oracle Health).",
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "- Select -"), *choices]


class SendBackForm(forms.Form):
    question = _text(
        "Question for Tier 2",
        help_text="Tier 3 never contacts the patient: Tier 2 asks and answers here. The SLA clock pauses.",
    )


class AnswerForm(forms.Form):
    answer = _text(
        "Answer for Tier 3", help_text="The ticket returns to Tier 3 and its SLA clock resumes."
    )


class ResolveForm(forms.Form):
    summary = _text("Resolution summary")
    root_cause = forms.ChoiceField(
        label="Root cause category", choices=[("", "- Select -"), *RootCause.choices]
    )
    workaround = _text("Workaround", required=False)
    code_change_needed = forms.TypedChoiceField(
        label="Is a code change needed?",
        choices=YES_NO_UNKNOWN,
        coerce=_yes_no,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    follow_up_url = forms.URLField(
        label="Follow-up link",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="The engineering issue, if one was opened.",
    )


class ReasonForm(forms.Form):
    """Reopen and cancel: one required reason."""

    reason = _text("Reason")


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label="New priority", choices=Priority.choices)
    reason = _text(
        "Reason",
        required=False,
        help_text="The SLA targets are re-evaluated from the ticket's start.",
    )
