"""The stock feed for other sales channels: GET /api/stock/ with a bearer token."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from inventory.channels import channel_for_token, feed_items


@never_cache
@require_GET
def stock_feed(request: HttpRequest) -> JsonResponse:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    channel = channel_for_token(token)
    if channel is None:
        response = JsonResponse({"error": "A valid bearer token is required."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="stock"'
        return response
    return JsonResponse(
        {"channel": channel.name, "generated_at": timezone.now().isoformat(), "items": feed_items()}
    )
