"""The shell: sign-in and sign-out, the home redirect, the header, API tokens, CSP-safe markup."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from backline.accounts.models import ApiToken, User
from backline.accounts.services import api_token_create, user_for_token
from backline.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return str(response.content.decode())


def test_sign_in_page_is_a_labelled_uswds_form(client: Client) -> None:
    page = html(client.get("/login/"))
    assert '<label class="usa-label" for="id_username">' in page
    assert '<label class="usa-label" for="id_password">' in page
    assert 'class="usa-skipnav" href="#main-content"' in page and '<main id="main-content"' in page


def test_sign_in_then_land_on_the_tier3_queue(client: Client, erin: User) -> None:
    response = client.post("/login/", {"username": "erin", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/tickets/queue/3/"
    assert "Signed in as <strong>Erin</strong>" in html(response)
    assert "Tier 3 engineer" in html(response)


def test_wrong_password_shows_an_error_summary(client: Client, erin: User) -> None:
    response = client.post("/login/", {"username": "erin", "password": "nope"})
    assert response.status_code == 200
    assert "Sign-in failed" in html(response)
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_and_ends_the_session(erin: User) -> None:
    client = signed_in(erin)
    assert client.post("/logout/").status_code == 302
    assert client.get("/tickets/queue/3/").status_code == 302


@pytest.mark.parametrize(
    ("person", "target"),
    [
        ("erin", "/tickets/queue/3/"),
        ("mona", "/tickets/queue/3/"),
        ("maggie", "/tickets/queue/3/"),
        ("sam", "/tickets/queue/2/"),
        ("tina", "/tickets/queue/1/"),
    ],
)
def test_home_sends_each_role_to_its_queue(make_person: Any, person: str, target: str) -> None:
    response = signed_in(make_person(person)).get("/")
    assert response.status_code == 302 and response["Location"] == target


def test_home_explains_to_people_without_a_role(nobody: User) -> None:
    response = signed_in(nobody).get("/")
    assert response.status_code == 200
    assert "You have no role yet" in html(response)


def test_header_names_the_person_and_leaves_a_slot_for_on_call(sam: User) -> None:
    page = html(signed_in(sam).get("/tickets/queue/2/"))
    assert "Signed in as <strong>Sam</strong>" in page and "Tier 2 specialist" in page
    assert 'aria-current="page"' in page and "Tier 2 queue" in page
    assert 'aria-label="Primary navigation"' in page


def test_pages_carry_no_inline_script_or_style(sam: User) -> None:
    client = signed_in(sam)
    for url in ("/tickets/queue/2/", "/tickets/new/", "/tokens/", "/tickets/mine/"):
        response = client.get(url)
        page = html(response)
        assert response.status_code == 200, url
        assert "Content-Security-Policy" in response.headers, url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert not re.search(r"\sstyle=", page), url
        assert "<style" not in page, url


def test_csrf_token_meta_tag_for_htmx(sam: User) -> None:
    page = html(signed_in(sam).get("/tickets/queue/2/"))
    assert re.search(r'<meta name="csrf-token" content="[^"]{32,}">', page)
    assert '"includeIndicatorStyles": false' in page


# --- API tokens ---------------------------------------------------------------------------------


def test_token_secret_is_shown_once(erin: User) -> None:
    client = signed_in(erin)
    response = client.post("/tokens/", {"name": "laptop scripts"})
    assert response.status_code == 201
    secret = re.search(r'id="new-token-secret"[^>]*>(bl_[^<]+)<', html(response))
    assert secret is not None
    listing = html(client.get("/tokens/"))
    assert "laptop scripts" in listing and secret.group(1) not in listing
    assert "Never" in listing  # last used
    assert user_for_token(secret.group(1)) == erin


def test_token_list_shows_last_use(erin: User) -> None:
    _, secret = api_token_create(user=erin, name="cron")
    user_for_token(secret)
    page = html(signed_in(erin).get("/tokens/"))
    assert "cron" in page and "Never" not in page


def test_token_name_is_required(erin: User) -> None:
    response = signed_in(erin).post("/tokens/", {"name": ""})
    assert response.status_code == 422
    assert 'id="id_name-error"' in html(response)
    assert not ApiToken.objects.exists()


def test_revoke_own_token_but_not_someone_elses(erin: User, frank: User) -> None:
    token, secret = api_token_create(user=erin, name="old")
    refused = signed_in(frank).post(f"/tokens/{token.pk}/revoke/")
    assert refused.status_code == 404
    assert user_for_token(secret) == erin
    response = signed_in(erin).post(f"/tokens/{token.pk}/revoke/", follow=True)
    assert "revoked" in html(response)
    assert user_for_token(secret) is None


def test_people_without_a_role_have_no_tokens_page(nobody: User) -> None:
    assert signed_in(nobody).get("/tokens/").status_code == 403


def test_unknown_pages_get_the_styled_404(erin: User) -> None:
    response = signed_in(erin).get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in html(response) and 'class="usa-skipnav"' in html(response)


def test_an_expired_form_explains_itself(erin: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(erin)
    response = client.post("/tickets/new/", {"title": "x"})
    assert response.status_code == 403
    assert "The form expired" in html(response)
