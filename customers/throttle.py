"""Failed sign-in throttling, kept in the cache (Redis in production).

Two counters over a fixed window: failures for one account from one address (stops
password guessing without letting a stranger lock the owner out from everywhere),
and all failures from one address (stops one machine spraying many accounts).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from config.http import client_ip

# An address may fail this many times the per-account limit, across accounts.
ADDRESS_LIMIT_FACTOR = 5


@dataclass(frozen=True)
class Throttle:
    keys: tuple[str, str]

    @classmethod
    def for_login(cls, request: HttpRequest, email: str) -> Throttle:
        address = client_ip(request)
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return cls(keys=(f"login-fail:{account}:{address}", f"login-fail-ip:{address}"))

    def _limits(self) -> tuple[int, int]:
        limit = settings.LOGIN_FAILURE_LIMIT
        return limit, limit * ADDRESS_LIMIT_FACTOR

    def retry_after(self) -> int:
        """Seconds until sign-in is allowed again; 0 when it is allowed now."""
        window = settings.LOGIN_FAILURE_WINDOW_SECONDS
        stored = cache.get_many(self.keys)
        wait = 0
        for key, limit in zip(self.keys, self._limits(), strict=True):
            entry = stored.get(key)
            if entry and entry["count"] >= limit:
                wait = max(wait, int(entry["started"] + window - time.time()) + 1)
        return max(wait, 0)

    def record_failure(self) -> None:
        window = settings.LOGIN_FAILURE_WINDOW_SECONDS
        now = time.time()
        for key in self.keys:
            entry = cache.get(key)
            if not entry or entry["started"] + window <= now:
                entry = {"count": 0, "started": now}
            entry["count"] += 1
            cache.set(key, entry, timeout=int(entry["started"] + window - now) + 1)

    def reset_account(self) -> None:
        """A successful sign-in clears the account's counter (not the address's)."""
        cache.delete(self.keys[0])


def retry_message(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}."
