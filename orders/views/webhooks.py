"""Payment provider webhooks: verify, store once, answer fast; a task applies the event."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders.webhooks import (
    WebhookError,
    stripe_event_parse,
    stripe_signature_verify,
    webhook_event_record,
)


@csrf_exempt  # Stripe signs the body instead; there is no session or form here
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    if not settings.STRIPE_WEBHOOK_SECRET:
        return HttpResponse("Stripe webhooks are not configured.", status=503)
    try:
        stripe_signature_verify(
            payload=request.body,
            header=request.headers.get("Stripe-Signature", ""),
            secret=settings.STRIPE_WEBHOOK_SECRET,
        )
        event = stripe_event_parse(request.body)
    except WebhookError as err:
        return HttpResponseBadRequest(str(err), content_type="text/plain")
    _, created = webhook_event_record(provider="stripe", event=event)
    return HttpResponse("stored" if created else "already stored", content_type="text/plain")
