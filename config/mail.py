"""Templated email: every message is a subject / text / html triple under templates/emails/."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string


def _render_text(name: str, context: Mapping[str, object]) -> str:
    # Plain text is not HTML: "Ben & Jerry's" must not arrive as "Ben &amp; Jerry&#x27;s".
    return get_template(name).template.render(Context(dict(context), autoescape=False))


def render_email(template: str, context: Mapping[str, object]) -> tuple[str, str, str]:
    """Render emails/<template>/subject.txt, body.txt and body.html with `context`."""
    full_context = {"store_name": settings.STORE_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(_render_text(f"emails/{template}/subject.txt", full_context).split())
    text = _render_text(f"emails/{template}/body.txt", full_context)
    html = render_to_string(f"emails/{template}/body.html", full_context)
    return subject, text, html


def send_templated_email(
    *,
    template: str,
    to: Sequence[str],
    context: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
    from_email: str | None = None,
) -> None:
    """Send one message to `to`, with a plain-text body and an HTML alternative."""
    subject, text, html = render_email(template, context or {})
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        headers=dict(headers or {}),
    )
    message.attach_alternative(html, "text/html")
    message.send()
