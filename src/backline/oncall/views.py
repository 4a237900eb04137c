"""The one HTML-side endpoint of on-call: secret calendar-feed URLs (no sign-in; the token is the
credential). Pages for people come from the UI engineer on top of selectors.py."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from backline.oncall.ical import feed_calendar
from backline.oncall.services import feed_token_for_secret


@require_GET
def feed(request: HttpRequest, secret: str) -> HttpResponse:
    now = timezone.now()
    token = feed_token_for_secret(secret, now=now)
    if token is None:
        raise Http404("No such calendar feed (revoked or mistyped).")
    response = HttpResponse(
        feed_calendar(token, now=now), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="oncall.ics"'
    return response
