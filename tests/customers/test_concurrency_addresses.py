"""Switching the default address from several tabs at once, on PostgreSQL with real threads.

The partial unique index allows one default per kind, so a switch is clear-then-set; the
customer row lock queues concurrent switches. The negative control removes the lock and
shows the index refusing the second writer, proving the harness sees the race."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connection

from customers import services
from customers.models import Address
from tests.factories.customers import AddressFactory, CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 6


@pytest.fixture
def addresses(monkeypatch):
    customer = CustomerFactory()
    rows = [AddressFactory(customer=customer) for _ in range(THREADS)]
    original_save = Address.save

    def slow_save(self, *args, **kwargs):
        # Hold the transaction open after setting the flag, so every unlocked writer has
        # cleared (seeing no committed default) before the first one commits.
        original_save(self, *args, **kwargs)
        time.sleep(0.2)

    monkeypatch.setattr(Address, "save", slow_save)
    return customer, rows


def switch_all_at_once(rows) -> list[str]:
    barrier = threading.Barrier(THREADS)

    def attempt(address: Address) -> str:
        try:
            barrier.wait()
            services.address_set_default(address=address, kind="shipping")
            return "ok"
        except IntegrityError:
            return "conflict"
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(attempt, rows))


def test_concurrent_switches_queue_and_leave_one_default(addresses):
    customer, rows = addresses
    assert switch_all_at_once(rows) == ["ok"] * THREADS
    assert Address.objects.filter(customer=customer, is_default_shipping=True).count() == 1


def test_negative_control_without_the_lock_writers_collide(addresses, monkeypatch):
    _, rows = addresses
    monkeypatch.setattr(services, "_lock_customer", lambda customer: None)
    assert "conflict" in switch_all_at_once(rows)
