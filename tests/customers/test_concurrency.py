"""Races on PostgreSQL: real threads, each with its own connection, started together."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
from django.db import connection
from django.utils import timezone

from customers import services
from customers.models import TOTPDevice
from tests.factories import StaffFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 8


def verify_all_at_once(user, code: str) -> list[bool]:
    barrier = threading.Barrier(THREADS)

    def attempt(_: int) -> bool:
        try:
            barrier.wait()
            return services.second_factor_verify(user=user, code=code)
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(attempt, range(THREADS)))


@pytest.fixture
def user_with_code(monkeypatch):
    user = StaffFactory()
    device = services.totp_device_start(user=user)
    device.confirmed_at = timezone.now()
    device.save()
    totp = pyotp.TOTP(device.secret)
    original = services._accept_code

    def slow_accept(device, code):
        # Widen the window between reading the device and writing its last step, so a
        # missing lock shows up every time rather than once in a while.
        time.sleep(0.2)
        return original(device, code)

    monkeypatch.setattr(services, "_accept_code", slow_accept)
    return user, totp.now()


def test_a_code_sent_by_many_requests_at_once_is_accepted_once(user_with_code):
    user, code = user_with_code
    assert verify_all_at_once(user, code).count(True) == 1


def test_negative_control_without_the_row_lock_the_race_is_seen(user_with_code, monkeypatch):
    user, code = user_with_code

    class Unlocked:
        """TOTPDevice whose select_for_update() locks nothing."""

        class objects:  # stands in for the manager
            @staticmethod
            def select_for_update():
                return TOTPDevice.objects.all()

    monkeypatch.setattr(services, "TOTPDevice", Unlocked)
    assert verify_all_at_once(user, code).count(True) > 1
