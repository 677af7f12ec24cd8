"""Throttling of guessable secrets (passwords, second-factor codes, reset requests).

Counters live in the cache (Redis in production, shared by every process) in fixed
windows: the key names the window, so a counter can never outlive it, and
`cache.add` + `cache.incr` count without a read-then-write race. An attempt is counted
before the secret is checked, so parallel requests cannot all slip under the limit.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from config.http import client_ip

# An address may fail this many times the per-account limit across accounts, and one
# account this many times across addresses (a slow spread-out guess).
WIDE_LIMIT_FACTOR = 5


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def address_of(request: HttpRequest) -> str:
    """The client address, with IPv6 grouped by /64: one host usually holds a whole /64."""
    raw = client_ip(request)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass(frozen=True)
class Throttle:
    """Several counters (key, limit) that one attempt counts against together."""

    counters: tuple[tuple[str, int], ...]
    window: int

    @classmethod
    def for_password(cls, request: HttpRequest, email: str) -> Throttle:
        limit, account, address = settings.LOGIN_FAILURE_LIMIT, _digest(email), address_of(request)
        return cls(
            counters=(
                (f"pw:{account}:{address}", limit),
                (f"pw-ip:{address}", limit * WIDE_LIMIT_FACTOR),
                (f"pw-acct:{account}", limit * WIDE_LIMIT_FACTOR),
            ),
            window=settings.LOGIN_FAILURE_WINDOW_SECONDS,
        )

    @classmethod
    def for_second_factor(cls, user_id: int) -> Throttle:
        # Keyed by the account alone, and never cleared by a right password: knowing the
        # password must not buy fresh guesses at the code.
        return cls(
            counters=((f"2fa:{user_id}", settings.LOGIN_FAILURE_LIMIT),),
            window=settings.LOGIN_FAILURE_WINDOW_SECONDS,
        )

    @classmethod
    def for_password_reset(cls, request: HttpRequest, email: str) -> Throttle:
        return cls(
            counters=((f"reset:{_digest(email)}", 5), (f"reset-ip:{address_of(request)}", 20)),
            window=60 * 60,
        )

    @classmethod
    def for_confirmation_email(cls, user_id: int) -> Throttle:
        # Each request mails someone: a signed-in script must not turn us into a spammer.
        return cls(counters=((f"confirm:{user_id}", 5),), window=60 * 60)

    def _bucket(self, key: str, now: float) -> tuple[str, float]:
        index = int(now // self.window)
        return f"throttle:{key}:{index}", (index + 1) * self.window

    def hit(self) -> int:
        """Count one attempt. Returns 0 if it may go ahead, else seconds until it may."""
        now = time.time()
        wait = 0
        for key, limit in self.counters:
            bucket, ends = self._bucket(key, now)
            timeout = int(ends - now) + 1
            cache.add(bucket, 0, timeout=timeout)
            try:
                count = cache.incr(bucket)
            except ValueError:  # expired between add and incr
                cache.set(bucket, 1, timeout=timeout)
                count = 1
            # Redis keeps the expiry across INCR; the file cache of development does not.
            cache.touch(bucket, timeout)
            if count > limit:
                wait = max(wait, timeout)
        return wait

    def succeeded(self) -> None:
        """A right secret: forget this attempt on the narrowest counter (account+address)."""
        bucket, _ = self._bucket(self.counters[0][0], time.time())
        cache.delete(bucket)


def retry_message(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed attempts. Try again in {minutes} {unit}."
