from __future__ import annotations

import re

from django.core import mail
from playwright.sync_api import Page, expect

from customers.models import Customer
from customers.services import roles_sync
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll
from tests.factories import StaffFactory
from tests.factories.customers import CustomerFactory
from tests.factories.users import PASSWORD


def test_a_shopper_signs_up_confirms_and_claims_past_orders_then_saves_an_address(
    page: Page, live_server, transactional_db, screenshot
):
    guest = CustomerFactory(email="grace@example.net", orders_count=2)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/account/signup/")
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email", exact=True).fill("grace@example.net")
    page.get_by_label("Password").fill("compiler-a0-1952")
    page.get_by_label("Email me news and offers").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Confirm your email.", exact=True)).to_be_visible()
    assert_no_horizontal_scroll(page)
    guest.refresh_from_db()
    assert guest.user is None

    link = re.search(r"http://\S+", mail.outbox[-1].body).group(0)
    page.goto(live_server.url + "/" + link.split("/", 3)[3])
    expect(page.get_by_text("Your email is confirmed.")).to_be_visible()
    expect(page.get_by_text("Confirmed", exact=True)).to_be_visible()
    guest.refresh_from_db()
    assert guest.user is not None
    assert guest.accepts_marketing
    screenshot(page, "customers-account-phone")

    # The consent box saves itself with htmx.
    page.get_by_label("Email me news and offers").uncheck()
    expect(page.get_by_text("You will get no marketing email.")).to_be_visible()
    guest.refresh_from_db()
    assert not guest.accepts_marketing
    assert guest.marketing_consent_source == "account"

    page.get_by_role("link", name=re.compile("Addresses")).click()
    page.get_by_role("link", name="Add an address").first.click()
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Address", exact=True).fill("1 Navy Yard")
    page.get_by_label("Postal code").fill("20374")
    page.get_by_label("City").fill("Washington")
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_text("Choose a country.")).to_be_visible()
    page.get_by_label("Country").select_option("US")
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_text("United States")).to_be_visible()
    expect(page.get_by_text("Default shipping")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "customers-addresses-phone")


def test_support_finds_a_customer_tags_them_and_writes_a_note(
    page: Page, live_server, transactional_db, screenshot
):
    roles_sync()
    StaffFactory(email="sam@example.com", full_name="Sam Patel", role="Support")
    CustomerFactory(email="other@example.net", full_name="Other Person")
    customer = CustomerFactory(email="ada@example.net", full_name="Ada Lovelace", orders_count=2)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/dashboard/login/?next=/dashboard/customers/")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("2 customers")).to_be_visible()

    page.get_by_placeholder("Search email, name or phone").fill("lovelace")
    expect(page.get_by_text("1 customer", exact=True)).to_be_visible()
    assert "q=lovelace" in page.url
    page.get_by_role("link", name="Ada Lovelace").click()

    page.get_by_label("Add a tag").fill("VIP")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#customer-tags .tag")).to_have_count(1)
    page.get_by_role("textbox", name="Notes").fill("Prefers phone calls.")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_text("Note saved.")).to_be_visible()
    screenshot(page, "customers-staff-detail-desktop")
    customer.refresh_from_db()
    assert customer.note == "Prefers phone calls."
    assert list(customer.tags.values_list("name", flat=True)) == ["VIP"]

    page.get_by_role("button", name="Remove tag VIP").click()
    expect(page.get_by_text("No tags yet.")).to_be_visible()
    assert not Customer.objects.get(pk=customer.pk).tags.exists()

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/dashboard/customers/")
    assert_no_horizontal_scroll(page)
