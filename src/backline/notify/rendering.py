"""Render one notification for each channel: Slack Block Kit, PagerDuty Events v2, email.

Framework-free: takes plain values (``Notice``, ``TicketFacts``) and returns JSON-ready dicts, so
payloads can be tested without a database and are stored in the outbox exactly as they are sent.
Every renderer keeps within the channel's limits however long the title or description is.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# Slack's published limits for Block Kit messages.
SLACK_MAX_BLOCKS = 50
SLACK_HEADER_LIMIT = 150
SLACK_SECTION_LIMIT = 3000
SLACK_FIELD_LIMIT = 2000
SLACK_MAX_FIELDS = 10
SLACK_CONTEXT_LIMIT = 2000
SLACK_FALLBACK_LIMIT = 3000
# Events API v2 limits.
PAGERDUTY_SUMMARY_LIMIT = 1024
PAGERDUTY_SOURCE_LIMIT = 255
PAGERDUTY_DETAIL_LIMIT = 4000  # per custom detail; the whole event must stay under 512 KB

ELLIPSIS = "…"


@dataclass(frozen=True)
class TicketFacts:
    """What a message says about a ticket, copied out of the row when the event happens."""

    number: str
    title: str
    priority: str  # critical, high, medium, low
    priority_label: str
    status_label: str
    link: str
    sla_target: str = ""  # "acknowledgement" or "resolution"
    sla_due_at: datetime | None = None
    sla_state: str = ""  # "On track", "At risk", ...
    assignee: str = ""


@dataclass(frozen=True)
class Notice:
    """One thing that happened, before it is shaped for a channel."""

    event: str
    headline: str  # "BL-1042 escalated to Tier 3"
    what_happened: str  # a sentence or a paragraph, plain text
    ticket: TicketFacts | None = None
    details: Sequence[tuple[str, str]] = field(default_factory=tuple)  # label, value
    link: str = ""  # where to act, when there is no ticket (a handoff report)


def cut(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup (&, <, >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn_cut(text: str, limit: int) -> str:
    # Cut before escaping would let "&" grow past the limit; cut the escaped text instead, without
    # splitting an entity.
    escaped = slack_escape(text)
    if len(escaped) <= limit:
        return escaped
    head = escaped[: limit - 1]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + ELLIPSIS


def format_when(moment: datetime | None, tz: str) -> str:
    if moment is None:
        return "no target"
    local = moment.astimezone(ZoneInfo(tz))
    return local.strftime("%a %d %b %Y %H:%M %Z")


def _ticket_lines(ticket: TicketFacts, tz: str) -> list[tuple[str, str]]:
    lines = [
        ("Priority", ticket.priority_label),
        ("Status", ticket.status_label),
    ]
    if ticket.sla_target:
        lines.append(
            (
                f"SLA ({ticket.sla_target})",
                f"{ticket.sla_state or 'unknown'}, due {format_when(ticket.sla_due_at, tz)}",
            )
        )
    lines.append(("Assignee", ticket.assignee or "unassigned"))
    return lines


def slack_message(notice: Notice, *, tz: str) -> dict[str, Any]:
    """A Block Kit message: header, what happened, ticket facts, details, a link; within limits."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": cut(notice.headline, SLACK_HEADER_LIMIT)},
        }
    ]
    ticket = notice.ticket
    if ticket is not None:
        title = f"*<{ticket.link}|{slack_escape(ticket.number)}>* "
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": title + _mrkdwn_cut(ticket.title, SLACK_SECTION_LIMIT - len(title)),
                },
            }
        )
    if notice.what_happened:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _mrkdwn_cut(notice.what_happened, SLACK_SECTION_LIMIT),
                },
            }
        )
    facts = (_ticket_lines(ticket, tz) if ticket is not None else []) + list(notice.details)
    fields = []
    for label, value in facts:
        name = _mrkdwn_cut(label, 100)
        body = _mrkdwn_cut(value, SLACK_FIELD_LIMIT - len(name) - 3)
        fields.append({"type": "mrkdwn", "text": f"*{name}*\n{body}"})
    # Keep room for the link block: at most 50 blocks in all.
    room = SLACK_MAX_BLOCKS - len(blocks) - 1
    chunks = [fields[i : i + SLACK_MAX_FIELDS] for i in range(0, len(fields), SLACK_MAX_FIELDS)]
    for chunk in chunks[:room]:
        blocks.append({"type": "section", "fields": chunk})
    link = ticket.link if ticket is not None else notice.link
    if link:
        label = f"Open {ticket.number} in Backline" if ticket is not None else "Open in Backline"
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": cut(f"<{link}|{label}>", SLACK_CONTEXT_LIMIT)}
                ],
            }
        )
    fallback = notice.headline
    if ticket is not None:
        fallback = f"{notice.headline}: {ticket.title}"
    return {"text": cut(fallback, SLACK_FALLBACK_LIMIT), "blocks": blocks[:SLACK_MAX_BLOCKS]}


def pagerduty_event(
    notice: Notice,
    *,
    action: str,
    dedup_key: str,
    severity: str = "critical",
    source: str = "backline",
    evidence: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An Events API v2 event. ``trigger`` carries the payload; acknowledge/resolve only the key."""
    if action not in ("trigger", "acknowledge", "resolve"):
        raise ValueError(f"unknown event action {action!r}")
    event: dict[str, Any] = {"event_action": action, "dedup_key": dedup_key}
    if action != "trigger":
        return event
    ticket = notice.ticket
    summary = notice.headline
    if ticket is not None:
        summary = f"{notice.headline}: {ticket.title}"
    details: dict[str, Any] = {"what_happened": cut(notice.what_happened, PAGERDUTY_DETAIL_LIMIT)}
    links: list[dict[str, str]] = []
    if ticket is not None:
        details.update(
            {
                "ticket": ticket.number,
                "ticket_link": ticket.link,
                "priority": ticket.priority_label,
                "status": ticket.status_label,
                "sla": f"{ticket.sla_target} {ticket.sla_state}".strip(),
                "sla_due_at": ticket.sla_due_at.isoformat() if ticket.sla_due_at else None,
                "assignee": ticket.assignee or "unassigned",
            }
        )
        links.append({"href": ticket.link, "text": f"{ticket.number} in Backline"})
    elif notice.link:
        links.append({"href": notice.link, "text": "Open in Backline"})
    for label, value in notice.details:
        details[label] = cut(value, PAGERDUTY_DETAIL_LIMIT)
    if evidence:
        details["evidence"] = dict(evidence)
    event["payload"] = {
        "summary": cut(summary, PAGERDUTY_SUMMARY_LIMIT),
        "source": cut(source, PAGERDUTY_SOURCE_LIMIT),
        "severity": severity,
        "component": "backline",
        "group": notice.event,
        "custom_details": details,
    }
    if links:
        event["links"] = links
    return event


def email_message(notice: Notice, *, tz: str) -> dict[str, str]:
    """Subject, plain text and HTML bodies. Subjects stay on one line and under 200 characters."""
    ticket = notice.ticket
    subject = notice.headline if ticket is None else f"{notice.headline}: {ticket.title}"
    subject = cut(" ".join(subject.split()), 200)
    facts = (_ticket_lines(ticket, tz) if ticket is not None else []) + list(notice.details)
    link = ticket.link if ticket is not None else notice.link
    text_lines = [notice.headline, ""]
    if ticket is not None:
        text_lines += [f"{ticket.number}: {ticket.title}", ""]
    if notice.what_happened:
        text_lines += [notice.what_happened, ""]
    text_lines += [f"{label}: {value}" for label, value in facts]
    if link:
        text_lines += ["", f"Open in Backline: {link}"]
    e = html.escape
    rows = "".join(f"<tr><th>{e(label)}</th><td>{e(value)}</td></tr>" for label, value in facts)
    parts = [f"<h1>{e(notice.headline)}</h1>"]
    if ticket is not None:
        parts.append(f'<p><a href="{e(ticket.link)}">{e(ticket.number)}</a> {e(ticket.title)}</p>')
    if notice.what_happened:
        parts.append(f"<p>{e(notice.what_happened)}</p>")
    if rows:
        parts.append(f"<table>{rows}</table>")
    if link:
        parts.append(f'<p><a href="{e(link)}">Open in Backline</a></p>')
    return {"subject": subject, "text": "\n".join(text_lines) + "\n", "html": "".join(parts)}
