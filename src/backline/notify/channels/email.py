"""Email through Django's SMTP backend: plain text with an HTML alternative, to a person or a list.

Connection settings come from ``NOTIFY_SMTP_*`` settings (see docs/notifications.md), so that the
outbox never depends on whatever ``EMAIL_BACKEND`` another part of the project configures.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email

from backline.notify.channels import PermanentError, Sent, TransientError


def address_problems(addresses: Sequence[str]) -> list[str]:
    """One message per malformed address (empty when all are fine)."""
    problems = []
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            problems.append(f"{address!r} is not an email address.")
    return problems


def split_addresses(raw: str) -> list[str]:
    """Addresses from text separated by commas, semicolons or new lines."""
    return [a.strip() for a in raw.replace(";", ",").replace("\n", ",").split(",") if a.strip()]


def send(*, to: Sequence[str], message: Mapping[str, Any], timeout: float) -> Sent:
    """Send one rendered email (``subject``, ``text``, ``html``) to ``to`` over SMTP."""
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=settings.NOTIFY_SMTP_HOST,
        port=settings.NOTIFY_SMTP_PORT,
        username=settings.NOTIFY_SMTP_USER or None,
        password=settings.NOTIFY_SMTP_PASSWORD or None,
        use_tls=settings.NOTIFY_SMTP_STARTTLS,
        timeout=timeout,
        fail_silently=False,
    )
    email = EmailMultiAlternatives(
        subject=str(message["subject"]),
        body=str(message["text"]),
        from_email=settings.NOTIFY_EMAIL_FROM,
        to=list(to),
        connection=connection,
    )
    email.attach_alternative(str(message["html"]), "text/html")
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"The mail server refused every recipient: {exc.recipients}.") from exc
    except smtplib.SMTPResponseException as exc:
        detail = f"SMTP {exc.smtp_code} {exc.smtp_error!r}"
        if 500 <= exc.smtp_code < 600:
            raise PermanentError(f"The mail server refused the message: {detail}.") from exc
        raise TransientError(f"The mail server deferred the message: {detail}.") from exc
    except (smtplib.SMTPException, TimeoutError, OSError) as exc:
        raise TransientError(f"Could not reach the mail server: {exc!r}.") from exc
    return Sent()
