"""Waiting for a real worker or beat process to do something, without sleeping blindly."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(read: Callable[[], object], seconds: float = 60) -> object:
    """Call `read` until it returns something truthy (returned), or None after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = read()
        if value:
            return value
        time.sleep(0.25)
    return None
