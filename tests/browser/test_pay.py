"""The pay page's script in a real browser, under the page's real Content-Security-Policy.

Stripe.js itself is not fetched (no network in tests): the browser's request for
https://js.stripe.com/v3/ is answered with a stand-in that has Stripe.js's shape
(Stripe(key).elements({clientSecret}).create("payment").mount(...), confirmPayment).
Served from Stripe's origin, it also proves the policy lets Stripe's script in.
"""

from __future__ import annotations

import pytest
from django.core import signing
from django.urls import reverse
from playwright.sync_api import Page, expect

from orders.emails import STATUS_LINK_SALT
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_scroll
from tests.fakes.stripe_orders import stripe_order_place
from tests.fakes.stripe_server import PUBLISHABLE_KEY, stripe_fake_fixture  # noqa: F401

DECLINED = "4000000000000002"
STRIPE_JS_STAND_IN = (
    """
window.Stripe = function (key) {
  window.__stripe = { key: key, confirmed: 0 };
  return {
    elements: function (options) {
      window.__stripe.clientSecret = options.clientSecret;
      return {
        create: function () {
          var element = {
            mount: function (node) {
              node.innerHTML = '<label>Card number <input id="fake-card"></label>';
              setTimeout(function () { element.ready && element.ready(); }, 20);
            },
            on: function (name, callback) { if (name === "ready") element.ready = callback; },
          };
          return element;
        },
      };
    },
    confirmPayment: function (args) {
      window.__stripe.confirmed += 1;
      if (document.getElementById("fake-card").value === "DECLINED_CARD") {
        return Promise.resolve({ error: { message: "Your card was declined." } });
      }
      window.location.href = args.confirmParams.return_url;
      return new Promise(function () {});
    },
  };
};
"""
).replace("DECLINED_CARD", DECLINED)


@pytest.fixture
def card_order(transactional_db, stripe_fake):
    return stripe_order_place()


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_the_card_form_mounts_reports_a_decline_and_returns_to_the_order(
    page: Page, live_server, card_order, screenshot, size, viewport
):
    token = signing.dumps({"n": card_order.number, "s": card_order.secret}, salt=STATUS_LINK_SALT)
    payment = card_order.payments.get()
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    page.route(
        "https://js.stripe.com/v3/",
        lambda route: route.fulfill(body=STRIPE_JS_STAND_IN, content_type="text/javascript"),
    )
    page.set_viewport_size(viewport)

    page.goto(live_server.url + reverse("orders:pay", args=[token]))
    card = page.get_by_label("Card number")
    expect(card).to_be_visible()
    pay = page.get_by_role("button", name=f"Pay {payment.amount} EUR")
    expect(pay).to_be_enabled()
    assert page.evaluate("window.__stripe.key") == PUBLISHABLE_KEY
    assert page.evaluate("window.__stripe.clientSecret") == payment.client_secret
    assert_no_horizontal_scroll(page)
    screenshot(page, f"pay-card-{size}")

    card.fill(DECLINED)
    pay.click()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    expect(pay).to_be_enabled()
    screenshot(page, f"pay-card-declined-{size}")

    card.fill("4242424242424242")
    pay.click()
    expect(page).to_have_url(live_server.url + reverse("orders:order-status", args=[token]))
    assert violations == []


def test_without_stripe_js_the_shopper_is_told_and_can_pay_another_way(
    page: Page, live_server, card_order
):
    token = signing.dumps({"n": card_order.number, "s": card_order.secret}, salt=STATUS_LINK_SALT)
    page.route("https://js.stripe.com/v3/", lambda route: route.abort())

    page.goto(live_server.url + reverse("orders:pay", args=[token]))

    expect(page.get_by_role("alert")).to_contain_text("The card form could not load.")
    expect(page.get_by_role("button", name=f"Pay {card_order.total} EUR")).to_be_disabled()
    page.get_by_text("Pay another way", exact=True).click()
    page.get_by_label("Bank transfer").check()
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name="Bank transfer")).to_be_visible()
    assert card_order.payments.filter(provider="bank_transfer", status="pending").exists()
