"""The tracking webhook carriers and tracking aggregators call.

POST /fulfillment/tracking/<carrier code>/ with JSON {"tracking_number": "...", "status":
"in_transit" | "delivered" | "exception" | "returned", "message": "..."}. The carrier
proves itself with its token: `Authorization: Bearer <token>`, or for carriers set to
HMAC, `X-Signature: <hex HMAC-SHA256 of the raw body keyed with the token>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fulfillment.models import Carrier
from fulfillment.services import TRACKING_MOVES, tracking_update


def _authentic(request: HttpRequest, carrier: Carrier | None) -> bool:
    # Compared in constant time; an unknown carrier gets the same 401 as a bad token.
    if carrier is None or not carrier.webhook_token:
        return False
    secret = carrier.webhook_token.encode()
    if carrier.webhook_auth == Carrier.WebhookAuth.HMAC:
        given = request.headers.get("X-Signature", "")
        expected = hmac.new(secret, request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.encode(), expected.encode())
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), secret)


@csrf_exempt
@require_POST
def tracking_webhook(request: HttpRequest, carrier_code: str) -> JsonResponse:
    carrier = Carrier.objects.filter(code=carrier_code, is_active=True).first()
    if not _authentic(request, carrier):
        return JsonResponse({"error": "unauthorized"}, status=401)
    try:
        payload = json.loads(request.body)
        number = str(payload["tracking_number"]).strip()
        status = str(payload["status"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "send JSON with tracking_number and status"}, status=400)
    if status not in TRACKING_MOVES or not number:
        return JsonResponse(
            {"error": f"status must be one of {', '.join(TRACKING_MOVES)}"}, status=400
        )
    shipment = tracking_update(
        carrier_id=carrier.pk,
        tracking_number=number,
        status=status,
        message=str(payload.get("message", ""))[:300],
    )
    if shipment is None:
        return JsonResponse({"error": "no parcel with this tracking number"}, status=404)
    return JsonResponse({"shipment": shipment.pk, "status": shipment.status})
