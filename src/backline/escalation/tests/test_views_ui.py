"""The HTML screens for what was API-only: the "hotfix needed" mark on the ticket panel and the
admins' threshold settings page. Who sees and may use each, htmx against plain posts, and that
a refused or invalid request changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from backline.accounts.models import User
from backline.escalation import services
from backline.escalation.models import HotfixMark, RuleSettings
from backline.escalation.rules import THRESHOLD_HELP, Thresholds
from backline.escalation.tests.conftest import NOW
from backline.tickets.choices import Status
from backline.tickets.models import Ticket, TimelineEntry

pytestmark = pytest.mark.django_db

QUIET_USER = "u-without-events"  # no log events: the recommendation is to stay at Tier 3
STAY = "Stay at Tier 3: no escalation criterion is met."
HOTFIX_HEADLINE = "Escalate to monitoring: a hotfix is needed."
MARK_BUTTON = "Mark: a hotfix is needed"
ICN = "1012345678V123456"
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch, var_dir: Path) -> None:
    monkeypatch.setattr(services, "_now", lambda now: now or NOW)


@pytest.fixture
def quiet_ticket(make_ticket: Callable[..., Any]) -> Ticket:
    ticket: Ticket = make_ticket(affected_user_id=QUIET_USER)
    return ticket


def browser(user: User, **options: Any) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def hotfix_url(ticket: Ticket) -> str:
    return f"/escalation/tickets/{ticket.number}/hotfix/"


def panel(user: User, ticket: Ticket) -> str:
    response = browser(user).get(f"/escalation/tickets/{ticket.number}/panel/")
    assert response.status_code == 200
    return str(response.content.decode())


def hotfix_entries(ticket: Ticket) -> int:
    return TimelineEntry.objects.filter(ticket=ticket, data={"escalation": "hotfix"}).count()


# ---- the hotfix mark on the panel -----------------------------------------------------------------


def test_the_mark_form_is_shown_only_to_people_who_may_mark(
    erin: User, mona: User, sam: User, quiet_ticket: Ticket
) -> None:
    for allowed in (erin, mona):
        html = panel(allowed, quiet_ticket)
        assert MARK_BUTTON in html
        assert f'hx-post="{hotfix_url(quiet_ticket)}"' in html
        assert f'action="{hotfix_url(quiet_ticket)}"' in html  # works without htmx too
        assert '<label class="usa-label" for="hotfix-note">' in html
        assert 'name="csrfmiddlewaretoken"' in html
    html = panel(sam, quiet_ticket)  # Tier 2 sees the panel, not the form
    assert STAY in html and MARK_BUTTON not in html


def test_htmx_mark_answers_with_the_panel_and_the_recommendation_changes(
    erin: User, sam: User, quiet_ticket: Ticket
) -> None:
    assert STAY in panel(erin, quiet_ticket)
    response = browser(erin).post(
        hotfix_url(quiet_ticket), {"note": "Null check missing in the refill job."}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="bl-panel" id="escalation-panel"')
    assert HOTFIX_HEADLINE in html
    assert f"Marked {quiet_ticket.number}: a hotfix is needed." in html
    assert "Marked that a hotfix is needed by <strong>Erin</strong>" in html
    assert "Note: Null check missing in the refill job." in html
    assert MARK_BUTTON not in html  # one mark per ticket: the form is gone
    assert "Escalate to Monitoring on-call" in html
    mark = HotfixMark.objects.get(ticket=quiet_ticket)
    assert mark.marked_by == erin and mark.note == "Null check missing in the refill job."
    assert hotfix_entries(quiet_ticket) == 1
    # Everyone who sees the panel sees the mark, who made it and the note.
    later = panel(sam, quiet_ticket)
    assert HOTFIX_HEADLINE in later and "by <strong>Erin</strong>" in later
    assert "Null check missing" in later


def test_plain_post_marks_and_goes_back_to_the_ticket_page(
    erin: User, quiet_ticket: Ticket
) -> None:
    client = browser(erin)
    response = client.post(hotfix_url(quiet_ticket), {"note": ""})
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{quiet_ticket.number}/#escalation-panel"
    page = client.get(response["Location"]).content.decode()
    assert f"Marked {quiet_ticket.number}: a hotfix is needed." in page
    mark = HotfixMark.objects.get(ticket=quiet_ticket)
    assert mark.note == ""
    html = panel(erin, quiet_ticket)
    assert HOTFIX_HEADLINE in html and "Note:" not in html


def test_refused_without_the_permission_in_the_panel_and_as_a_message(
    sam: User, quiet_ticket: Ticket
) -> None:
    refused = browser(sam).post(hotfix_url(quiet_ticket), {"note": "x"}, headers=HTMX)
    assert refused.status_code == 403
    html = refused.content.decode()
    assert 'id="escalation-panel"' in html and 'role="alert"' in html
    assert STAY in html  # the panel is still whole, with the reason added
    client = browser(sam)
    plain = client.post(hotfix_url(quiet_ticket), {"note": "x"})
    assert plain.status_code == 302
    page = client.get(plain["Location"]).content.decode()
    assert 'usa-alert--error" role="alert"' in page
    assert not HotfixMark.objects.exists() and hotfix_entries(quiet_ticket) == 0


def test_someone_who_may_not_see_patterns_gets_the_error_box(
    tina: User, quiet_ticket: Ticket
) -> None:
    refused = browser(tina).post(hotfix_url(quiet_ticket), {}, headers=HTMX)
    assert refused.status_code == 403
    assert 'class="usa-error-message" role="alert"' in refused.content.decode()
    assert not HotfixMark.objects.exists()


def test_a_closed_ticket_is_refused_in_the_panel(erin: User, quiet_ticket: Ticket) -> None:
    Ticket.objects.filter(pk=quiet_ticket.pk).update(status=Status.RESOLVED)
    assert MARK_BUTTON not in panel(erin, quiet_ticket)
    refused = browser(erin).post(hotfix_url(quiet_ticket), {"note": "too late"}, headers=HTMX)
    assert refused.status_code == 409
    assert "is closed: a hotfix mark is only for open tickets." in refused.content.decode()
    assert not HotfixMark.objects.exists() and hotfix_entries(quiet_ticket) == 0


def test_a_too_long_note_is_a_form_error_and_nothing_is_saved(
    erin: User, quiet_ticket: Ticket
) -> None:
    note = "x" * 2001
    refused = browser(erin).post(hotfix_url(quiet_ticket), {"note": note}, headers=HTMX)
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Note: Ensure this value has at most 2000 characters (it has 2001)." in html
    assert f">{note}</textarea>" in html  # the note is kept to shorten, not lost
    assert 'aria-describedby="hotfix-note-hint hotfix-error"' in html
    assert not HotfixMark.objects.exists() and hotfix_entries(quiet_ticket) == 0


def test_a_second_mark_is_refused_and_the_first_kept(
    erin: User, frank: User, quiet_ticket: Ticket
) -> None:
    assert browser(erin).post(hotfix_url(quiet_ticket), {"note": "first"}).status_code == 302
    refused = browser(frank).post(hotfix_url(quiet_ticket), {"note": "second"}, headers=HTMX)
    assert refused.status_code == 409
    assert "already marked as needing a hotfix (by Erin)" in refused.content.decode()
    mark = HotfixMark.objects.get(ticket=quiet_ticket)
    assert (mark.marked_by, mark.note) == (erin, "first")
    assert hotfix_entries(quiet_ticket) == 1


def test_an_unknown_ticket_is_a_message_not_a_500(erin: User) -> None:
    missing = browser(erin).post("/escalation/tickets/BL-999999/hotfix/", {}, headers=HTMX)
    assert missing.status_code == 404
    assert "No ticket BL-999999." in missing.content.decode()
    plain = browser(erin).post("/escalation/tickets/BL-999999/hotfix/", {})
    assert plain.status_code == 302


def test_identifiers_in_the_note_are_shown_as_tokens(
    erin: User, sam: User, quiet_ticket: Ticket
) -> None:
    browser(erin).post(hotfix_url(quiet_ticket), {"note": f"Seen for {ICN} only"})
    assert HotfixMark.objects.get(ticket=quiet_ticket).note == f"Seen for {ICN} only"
    html = panel(sam, quiet_ticket)
    assert "Note: Seen for " in html and ICN not in html


def test_the_htmx_post_needs_the_csrf_header_the_page_sends(
    erin: User, quiet_ticket: Ticket
) -> None:
    client = browser(erin, enforce_csrf_checks=True)
    client.get(f"/tickets/{quiet_ticket.number}/")  # sets the CSRF cookie, as the page does
    token = client.cookies["csrftoken"].value
    without = client.post(hotfix_url(quiet_ticket), {"note": ""}, headers=HTMX)
    assert without.status_code == 403 and not HotfixMark.objects.exists()
    # app.js sends the page's token as X-CSRFToken on every htmx post.
    sent = client.post(
        hotfix_url(quiet_ticket), {"note": ""}, headers={**HTMX, "X-CSRFToken": token}
    )
    assert sent.status_code == 200 and HotfixMark.objects.filter(ticket=quiet_ticket).exists()


# ---- threshold settings -------------------------------------------------------------------------


def test_every_threshold_has_one_line_of_help() -> None:
    names = [spec.name for spec in fields(Thresholds)]
    assert sorted(THRESHOLD_HELP) == sorted(names)
    for name in names:
        text = THRESHOLD_HELP[name]
        assert text.strip() == text and text.endswith(".") and "\n" not in text, name
        assert text.count(". ") == 0, f"{name}: one sentence"


def form_data(**changes: Any) -> dict[str, str]:
    """The settings form as a browser posts it with the defaults, and ``changes`` applied
    (a switch that is off is left out, as an unticked checkbox is)."""
    values = {**Thresholds().as_dict(), **changes}
    data = {"action": "save"}
    for name, value in values.items():
        if value is True:
            data[name] = "on"
        elif value is not False:
            data[name] = str(value)
    return data


@pytest.mark.parametrize("persona", ["erin", "sam", "mona", "maggie", "nobody"])
def test_settings_are_refused_to_everyone_but_admins(
    make_person: Callable[[str], User], persona: str
) -> None:
    client = browser(make_person(persona))
    assert client.get("/escalation/settings/").status_code == 403
    assert client.post("/escalation/settings/", form_data(min_users=1)).status_code == 403
    assert client.post("/escalation/settings/", {"action": "reset"}).status_code == 403
    assert not RuleSettings.objects.exists()


def test_settings_need_sign_in() -> None:
    response = Client().get("/escalation/settings/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_settings_page_shows_every_field_with_value_default_and_help(ada: User) -> None:
    services.rule_settings_update(actor=ada, values={"min_users": 8, "detect_max_chance": 1e-6})
    html = browser(ada).get("/escalation/settings/").content.decode()
    for spec in fields(Thresholds):
        assert f'id="id_{spec.name}"' in html, spec.name
        assert THRESHOLD_HELP[spec.name].replace("'", "&#x27;") in html, spec.name
    assert 'type="number" name="min_users" value="8"' in html
    assert "Default: 5. Changed from the default." in html
    assert 'name="detect_max_chance" value="1e-06"' in html and "Default: 1e-05." in html
    assert 'type="checkbox" name="protected_data_escalates"' in html
    assert "Default: off." in html
    assert "2 thresholds differ from the default; last saved by Ada" in html
    assert "Reset to defaults" in html


def test_saving_stores_only_the_changed_values(ada: User) -> None:
    response = browser(ada).post(
        "/escalation/settings/", form_data(min_users=8, protected_data_escalates=True)
    )
    assert response.status_code == 302 and response["Location"] == "/escalation/settings/"
    row = RuleSettings.objects.get()
    assert row.values == {"min_users": 8, "protected_data_escalates": True}
    assert services.rule_thresholds() == Thresholds(min_users=8, protected_data_escalates=True)
    # Unticking the switch puts it back to its default.
    browser(ada).post("/escalation/settings/", form_data(min_users=8))
    assert RuleSettings.objects.get().values == {"min_users": 8}


def test_invalid_values_name_the_field_and_nothing_is_saved(ada: User) -> None:
    services.rule_settings_update(actor=ada, values={"areas_min": 4})
    response = browser(ada).post(
        "/escalation/settings/",
        form_data(min_users=-1, baseline_factor="lots", breaker_minutes="", areas_min=6),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was saved: correct the thresholds below." in html
    assert (
        'href="#id_min_users">Min users: Ensure this value is greater than or equal to 0.' in html
    )
    assert 'href="#id_baseline_factor">Baseline factor: Enter a number.' in html
    assert 'href="#id_breaker_minutes">Breaker minutes: This field is required.' in html
    assert 'name="min_users" value="-1"' in html  # what was typed stays to be corrected
    assert RuleSettings.objects.get().values == {"areas_min": 4}


def test_reset_to_defaults_clears_every_change(ada: User) -> None:
    services.rule_settings_update(actor=ada, values={"min_users": 8})
    client = browser(ada)
    response = client.post("/escalation/settings/", {"action": "reset"})
    assert response.status_code == 302
    assert RuleSettings.objects.get().values == {}
    assert services.rule_thresholds() == Thresholds()
    page = client.get(response["Location"]).content.decode()
    assert "Every threshold is at its default." in page
    assert "Every threshold is back at its default." in page  # the message after the redirect


def test_nav_links_the_settings_for_admins_only(ada: User, erin: User) -> None:
    assert (
        'href="/escalation/settings/"' in browser(ada).get("/escalation/patterns/").content.decode()
    )
    assert (
        'href="/escalation/settings/"'
        not in browser(erin).get("/escalation/patterns/").content.decode()
    )
    current = browser(ada).get("/escalation/settings/").content.decode()
    assert 'href="/escalation/settings/" aria-current="page"' in current
