"""Payloads stay within Slack's and PagerDuty's limits whatever the ticket says."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from backline.notify import rendering
from backline.notify.channels.pagerduty import severity_for

LINK = "https://backline.example.org/tickets/BL-1042/"


def notice(
    title: str = "RX - Medications list empty", what: str = "Escalated.", details: int = 0
) -> rendering.Notice:
    return rendering.Notice(
        event="escalated_tier3",
        headline=f"BL-1042 escalated to Tier 3 {title[:300]}",
        what_happened=what,
        ticket=rendering.TicketFacts(
            number="BL-1042",
            title=title,
            priority="critical",
            priority_label="Critical",
            status_label="New",
            link=LINK,
            sla_target="acknowledgement",
            sla_due_at=datetime(2026, 11, 23, 15, 5, tzinfo=UTC),
            sla_state="On track",
            assignee="Erin",
        ),
        details=tuple((f"Evidence {i}", "x" * 50) for i in range(details)),
    )


def check_slack_limits(message: dict[str, object]) -> None:
    blocks = message["blocks"]
    assert isinstance(blocks, list)
    assert 1 <= len(blocks) <= rendering.SLACK_MAX_BLOCKS
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= rendering.SLACK_HEADER_LIMIT
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= rendering.SLACK_SECTION_LIMIT
            for field in block.get("fields", []):
                assert len(field["text"]) <= rendering.SLACK_FIELD_LIMIT
            assert len(block.get("fields", [])) <= rendering.SLACK_MAX_FIELDS
    assert len(str(message["text"])) <= rendering.SLACK_FALLBACK_LIMIT


def test_slack_message_names_ticket_link_priority_and_sla() -> None:
    message = rendering.slack_message(notice(), tz="America/New_York")
    check_slack_limits(message)
    flat = str(message)
    assert "BL-1042" in flat and LINK in flat and "Critical" in flat
    assert "On track, due Mon 23 Nov 2026 10:05 EST" in flat
    assert message["blocks"][0]["text"]["text"].startswith("BL-1042 escalated to Tier 3")


def test_very_long_title_description_and_many_details_stay_within_slack_limits() -> None:
    long = "Medications & <allergies> " * 2000
    message = rendering.slack_message(notice(title=long, what=long, details=600), tz="UTC")
    check_slack_limits(message)
    # Escaping never leaves a broken entity at the cut.
    for block in message["blocks"]:
        text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
        assert "<allergies>" not in text
        assert not text.rstrip("…").endswith(("&amp", "&lt", "&gt", "&"))


@settings(max_examples=200, deadline=None)
@given(title=st.text(max_size=5000), what=st.text(max_size=8000), details=st.integers(0, 700))
def test_slack_limits_hold_for_any_text(title: str, what: str, details: int) -> None:
    check_slack_limits(rendering.slack_message(notice(title, what, details), tz="UTC"))


def test_pagerduty_trigger_summary_is_cut_to_1024_and_carries_link_and_evidence() -> None:
    event = rendering.pagerduty_event(
        notice(title="y" * 5000),
        action="trigger",
        dedup_key="backline-ticket-BL-1042",
        severity=severity_for("critical"),
        evidence={"affected_users": 214, "baseline": 3},
    )
    payload = event["payload"]
    assert len(payload["summary"]) == rendering.PAGERDUTY_SUMMARY_LIMIT
    assert payload["summary"].endswith("…")
    assert payload["severity"] == "critical"
    assert payload["custom_details"]["ticket_link"] == LINK
    assert payload["custom_details"]["evidence"] == {"affected_users": 214, "baseline": 3}
    assert event["dedup_key"] == "backline-ticket-BL-1042"
    assert event["links"][0]["href"] == LINK


def test_acknowledge_and_resolve_carry_only_the_key() -> None:
    for action in ("acknowledge", "resolve"):
        assert rendering.pagerduty_event(notice(), action=action, dedup_key="k") == {
            "event_action": action,
            "dedup_key": "k",
        }


def test_severity_follows_priority() -> None:
    assert [severity_for(p) for p in ("critical", "high", "medium", "low")] == [
        "critical",
        "error",
        "warning",
        "info",
    ]


def test_email_has_plain_text_and_escaped_html() -> None:
    mail = rendering.email_message(notice(title="<script>x</script>\nline"), tz="UTC")
    assert "\n" not in mail["subject"]
    assert "<script>" not in mail["html"] and "&lt;script&gt;" in mail["html"]
    assert "<script>x</script>" in mail["text"]
    assert LINK in mail["text"] and LINK in mail["html"]
