"""Helpers every HTML view shares: sign-in plus the viewer's time zone, and domain errors as pages.

Views in every app use ``staff_view`` instead of ``login_required`` so that times are shown in,
and ``datetime-local`` inputs are read in, the signed-in person's own time zone.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from backline.errors import Conflict, DomainError, InvalidInput

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def viewer_zone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    """The signed-in person's time zone, or the site's when theirs is unset or unknown."""
    name = getattr(request.user, "time_zone", "") or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def staff_view(view: ViewFunc) -> ViewFunc:
    """Require sign-in and run the view (parsing and rendering) in the viewer's time zone."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(viewer_zone(request)):
            return view(request, *args, **kwargs)

    return login_required(wrapped)  # type: ignore[return-value]


def error_status(exc: Exception) -> int:
    """The HTTP status a domain error (or a refused permission) answers with."""
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, DomainError):
        return exc.status_code
    return 400


def error_message(exc: Exception) -> str:
    """The message for the person, never a traceback."""
    if isinstance(exc, DomainError):
        message = exc.message
        if isinstance(exc, Conflict) and exc.allowed and "Allowed:" not in message:
            message += " Allowed next statuses: " + ", ".join(exc.allowed) + "."
        return message
    text = str(exc)
    return text or "Your roles do not allow this action."


def errors_onto_form(form: forms.Form, exc: Exception, aliases: Mapping[str, str] = {}) -> None:
    """Attach an InvalidInput's field errors to the form fields of the same name.

    Errors for names the form does not have become form-wide errors, so nothing is lost.
    ``aliases`` maps service field names to form field names where they differ.
    """
    fields = exc.fields if isinstance(exc, InvalidInput) else {}
    attached = False
    for name, messages in fields.items():
        target = aliases.get(name, name)
        for message in messages:
            if target in form.fields:
                form.add_error(target, message)
            else:
                label = name.replace("_", " ").capitalize()
                form.add_error(None, f"{label}: {message}")
            attached = True
    if not attached:
        form.add_error(None, error_message(exc))


def render_domain_error(request: HttpRequest, exc: Exception, *, title: str = "") -> HttpResponse:
    """A full page explaining why the request was refused (unknown ticket, role not allowed ...)."""
    status = error_status(exc)
    heading = title or {403: "Not allowed", 404: "Not found", 409: "Cannot do that now"}.get(
        status, "Cannot do that"
    )
    return render(
        request,
        "web/error.html",
        {"heading": heading, "message": error_message(exc)},
        status=status,
    )
