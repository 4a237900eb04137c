"""HTML forms of the notification pages: one's own settings, team channels, the outbox filter.

They check shapes (times, choices, lengths); the model's ``clean`` and the services check the
rules (webhook URLs, routing keys, addresses, quiet hours), and the views attach the services'
``InvalidInput`` field errors to these forms.

Secrets are write-only here: a form for an existing channel never echoes its webhook URL or
routing key; leaving the field empty keeps the stored one.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms

from backline.accounts.roles import ROLE_CHOICES
from backline.notify.models import (
    PERSONAL_EVENTS,
    Channel,
    ChannelKind,
    DeliveryStatus,
    Event,
)
from backline.notify.selectors import OutboxFilters, RuleView

PERSONAL_CHANNEL_LABELS = {
    ChannelKind.SLACK.value: "Slack",
    ChannelKind.EMAIL.value: "Email",
}
TICKET_NUMBER_MAX = 40


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


def channel_field_name(event: str, kind: str) -> str:
    """The checkbox for one event and one personal channel, e.g. ``sla_ack_at_risk__email``."""
    return f"{event}__{kind}"


class RulesForm(forms.Form):
    """Per event: Slack and/or email; one pair of quiet hours for all of the person's events."""

    quiet_start = forms.TimeField(
        label="Quiet hours start",
        required=False,
        widget=TimeInput(),
        help_text="Local time, e.g. 22:00. Leave both times empty for no quiet hours.",
    )
    quiet_end = forms.TimeField(
        label="Quiet hours end",
        required=False,
        widget=TimeInput(),
        help_text="Local time, e.g. 07:00. The window may span midnight.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for event in PERSONAL_EVENTS:
            for kind, label in PERSONAL_CHANNEL_LABELS.items():
                self.fields[channel_field_name(event, kind)] = forms.BooleanField(
                    label=label, required=False
                )

    @staticmethod
    def initial_for(views: list[RuleView]) -> dict[str, Any]:
        """The form as the person's rules (or the defaults) say; quiet hours from the first
        rule that has them."""
        initial: dict[str, Any] = {}
        for view in views:
            for kind in PERSONAL_CHANNEL_LABELS:
                initial[channel_field_name(view.event, kind)] = kind in view.channels
        quiet = next((v for v in views if v.quiet_start and v.quiet_end), None)
        if quiet is not None:
            initial["quiet_start"] = quiet.quiet_start
            initial["quiet_end"] = quiet.quiet_end
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if "quiet_start" in self.errors or "quiet_end" in self.errors:
            return data
        if (start is None) != (end is None):
            self.add_error(
                "quiet_end" if end is None else "quiet_start",
                "Give both ends of the quiet hours, or leave both empty.",
            )
        elif start is not None and start == end:
            self.add_error("quiet_end", "Quiet hours must not start and end at the same time.")
        return data

    def channel_rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        """(event label, [Slack checkbox, email checkbox]) per event, in the table's order."""
        return [
            (
                Event(event).label,
                [self[channel_field_name(event, kind)] for kind in PERSONAL_CHANNEL_LABELS],
            )
            for event in PERSONAL_EVENTS
        ]

    def rules(self) -> list[tuple[str, list[str], time | None, time | None]]:
        """(event, channels, quiet start, quiet end) for every personal event."""
        data = self.cleaned_data
        return [
            (
                str(event),
                [k for k in PERSONAL_CHANNEL_LABELS if data.get(channel_field_name(event, k))],
                data.get("quiet_start"),
                data.get("quiet_end"),
            )
            for event in PERSONAL_EVENTS
        ]


class PersonalWebhookForm(forms.Form):
    """The person's own Slack incoming webhook (messages to them arrive as Slack DMs)."""

    prefix = "slack"

    webhook_url = forms.CharField(
        label="Your Slack webhook URL",
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=(
            "Create an incoming webhook that posts to your direct messages in Slack and paste "
            "its whole URL (https://hooks.slack.com/services/...)."
        ),
    )

    def __init__(self, *args: Any, has_webhook: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_webhook = has_webhook
        if has_webhook:
            self.fields["webhook_url"].label = "New Slack webhook URL"
            self.fields[
                "webhook_url"
            ].help_text = (
                "Paste a new URL to replace the stored one (https://hooks.slack.com/services/...)."
            )
        else:
            self.fields["webhook_url"].required = True


# Team channels ------------------------------------------------------------------------------

TEAM_ROLE_CHOICES = [("", "Choose a role")] + [(value, label) for value, label in ROLE_CHOICES]

KIND_TITLES = {
    ChannelKind.SLACK.value: "Slack channel",
    ChannelKind.PAGERDUTY.value: "PagerDuty service",
    ChannelKind.EMAIL.value: "Email list",
}
KIND_NOUNS = {**KIND_TITLES, ChannelKind.EMAIL.value: "email list"}  # mid-sentence


class ChannelForm(forms.Form):
    """A team channel of one kind: the kind is fixed by the page, its secret is write-only."""

    name = forms.CharField(label="Name", max_length=100)
    role = forms.ChoiceField(
        label="Team (role)",
        choices=TEAM_ROLE_CHOICES,
        help_text="Whose team channel or service this is; its events go there.",
    )
    webhook_url = forms.CharField(
        label="Incoming-webhook URL",
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    routing_key = forms.CharField(
        label="Integration (routing) key",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    addresses = forms.CharField(
        label="Email addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, or separated by commas.",
    )
    enabled = forms.BooleanField(
        label="Enabled (uncheck to stop sending here without deleting it)",
        required=False,
        initial=True,
    )

    def __init__(
        self, *args: Any, kind: str, channel: Channel | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.channel = channel
        # Only the destination field of this kind is shown and read.
        for name in ("webhook_url", "routing_key", "addresses"):
            if name != self.secret_field_name and name in self.fields:
                del self.fields[name]
        name_field = self.fields["name"]
        if kind == ChannelKind.SLACK:
            name_field.help_text = "The Slack channel it posts to, e.g. #mhv-tier-3-support."
            url = self.fields["webhook_url"]
            if channel is None:
                url.help_text = (
                    "Copy the whole URL from Slack (https://hooks.slack.com/services/...)."
                )
            else:
                url.label = "New incoming-webhook URL"
                url.help_text = (
                    f"Stored: {channel_target_text(channel)}. Leave empty to keep it, or paste "
                    "a new URL (https://hooks.slack.com/services/...)."
                )
        elif kind == ChannelKind.PAGERDUTY:
            name_field.help_text = "The PagerDuty service, e.g. Monitoring on-call."
            key = self.fields["routing_key"]
            if channel is None:
                key.help_text = (
                    "The Events API v2 integration key of the service: 32 letters and digits."
                )
            else:
                key.label = "New integration (routing) key"
                key.help_text = (
                    f"Stored: {channel_target_text(channel)}. Leave empty to keep it, or paste "
                    "a new key (32 letters and digits)."
                )
        else:
            name_field.help_text = "e.g. Investigator list."
            self.fields["addresses"].required = True

    @property
    def secret_field_name(self) -> str:
        return {
            ChannelKind.SLACK.value: "webhook_url",
            ChannelKind.PAGERDUTY.value: "routing_key",
        }.get(self.kind, "addresses")

    @staticmethod
    def initial_for(channel: Channel) -> dict[str, Any]:
        """The stored values, except the webhook URL or routing key (never echoed)."""
        return {
            "name": channel.name,
            "role": channel.role,
            "addresses": channel.addresses,
            "enabled": channel.enabled,
        }

    def service_fields(self) -> dict[str, Any]:
        """The fields for ``services.channel_save``: an empty secret keeps the stored one."""
        data = self.cleaned_data
        fields: dict[str, Any] = {
            "name": data["name"],
            "role": data["role"],
            "enabled": bool(data.get("enabled")),
        }
        destination = self.secret_field_name
        value = data.get(destination, "")
        if self.channel is None:
            fields["kind"] = self.kind
            fields[destination] = value
        elif value or destination == "addresses":
            fields[destination] = value
        return fields


def channel_target_text(channel: Channel) -> str:
    """A channel's destination as the pages show it (secrets redacted)."""
    return redact_target(str(channel.kind), channel.target)


def redact_target(kind: str, target: str) -> str:
    """Webhook URLs as host plus their last 4 characters, routing keys as their last 4; email
    addresses (not secret) as they are."""
    target = target.strip()
    if not target:
        return "(none)"
    if kind == ChannelKind.SLACK:
        host = target.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
        return f"{host} …{target.rstrip('/')[-4:]}"
    if kind == ChannelKind.PAGERDUTY:
        return f"…{target[-4:]}"
    return target


# The outbox ---------------------------------------------------------------------------------


class OutboxFilterForm(forms.Form):
    """The outbox filter, read from the query string so a filtered view can be bookmarked."""

    status = forms.MultipleChoiceField(
        label="Status", choices=DeliveryStatus.choices, required=False
    )
    channel = forms.ChoiceField(
        label="Channel", choices=[("", "Any channel"), *ChannelKind.choices], required=False
    )
    event = forms.ChoiceField(
        label="Event", choices=[("", "Any event"), *Event.choices], required=False
    )
    ticket = forms.CharField(
        label="Ticket number",
        max_length=TICKET_NUMBER_MAX,
        required=False,
        help_text="e.g. BL-1042",
    )

    def filters(self) -> OutboxFilters:
        """The valid part of the filter; invalid fields are shown as errors and left out."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return OutboxFilters(
            status=tuple(data.get("status") or ()),
            channel=(data["channel"],) if data.get("channel") else (),
            event=(data["event"],) if data.get("event") else (),
            ticket=(data.get("ticket") or "").strip(),
        )

    def status_options(self) -> list[tuple[str, str, bool]]:
        """(value, label, checked) for the status checkboxes, rendered by the template."""
        chosen = (
            set(self.cleaned_data.get("status") or ()) if hasattr(self, "cleaned_data") else set()
        )
        return [(value, str(label), value in chosen) for value, label in DeliveryStatus.choices]
