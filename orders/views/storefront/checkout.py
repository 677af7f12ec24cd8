"""Checkout: one page of steps (contact, address, delivery, payment, review), each its own
form posting to the same URL, so it works without JavaScript; htmx swaps the `checkout-body`
region. Placing the order is idempotent (orders.services.order_place).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from config.htmx import redirect_for
from customers.models import Address
from customers.records import customer_consent_set
from orders.cart_session import (
    ORDERS_SESSION_KEY,
    cart_count_forget,
    cart_for_placing,
    cart_for_request,
    order_remember,
)
from orders.emails import order_status_token
from orders.forms import (
    COUNTRY_NAMES,
    AddressForm,
    ContactForm,
    PaymentMethodForm,
    SavedAddressForm,
    ShippingMethodForm,
    country_name,
)
from orders.models import (
    Cart,
    CartLine,
    Order,
)
from orders.payments import available_providers
from orders.pricing import price_lines, ship_countries, shipping_methods_for, shipping_price
from orders.services import (
    CheckoutError,
    cart_checkout_update,
    cart_holds_renew,
    cart_problems,
    order_place,
)
from orders.views.storefront.cart import lines_for_page

CHECKOUT_PAGE = "orders/storefront/checkout.html"
# The checkout remembers the marketing checkbox here until the order exists.
CONSENT_SESSION_KEY = "checkout_marketing"


# --- Checkout --------------------------------------------------------------------------------

STEPS = ("contact", "address", "delivery", "payment", "review")


def _methods_with_prices(cart: Cart, lines: list[CartLine], country: str) -> list:
    totals = price_lines(
        items=[(line.variant, line.quantity) for line in lines],
        currency=cart.currency,
        voucher=cart.voucher,
        email=cart.email,
    )
    subtotal = totals.subtotal - totals.discount
    methods = shipping_methods_for(country=country)
    for method in methods:
        method.quote, method.is_free = shipping_price(
            method, subtotal=subtotal, weight_grams=totals.weight_grams
        )
        if totals.free_shipping:  # a free-shipping voucher
            method.quote, method.is_free = method.quote * 0, True
    return methods


def _done(cart: Cart, countries: list[str], methods: list, providers: list) -> dict[str, bool]:
    address = cart.shipping_address or {}
    return {
        "contact": bool(cart.email),
        "address": bool(
            all(address.get(key) for key in ("full_name", "line1", "city", "country"))
            and address.get("country") in countries
        ),
        "delivery": cart.shipping_method_id in {method.pk for method in methods},
        "payment": cart.payment_method in {provider.code for provider in providers},
    }


def _checkout_context(request: HttpRequest, cart: Cart, forms: dict | None = None, **extra):
    forms = forms or {}
    lines = lines_for_page(cart)
    countries = ship_countries()
    country = (cart.shipping_address or {}).get("country", "")
    methods = _methods_with_prices(cart, lines, country) if country else []
    providers = available_providers()
    done = _done(cart, countries, methods, providers)
    wanted = request.GET.get("edit") or extra.pop("step", None)
    first_open = next((step for step in STEPS[:-1] if not done[step]), "review")
    if wanted in STEPS and (wanted == first_open or done.get(wanted)):
        current = wanted
    else:
        current = first_open
    for name, form in forms.items():
        if form.errors:
            current = {"saved": "address", "billing": "address"}.get(name, name)
    user = request.user if request.user.is_authenticated else None
    saved = list(Address.objects.filter(customer__user=user)) if user else []
    address = cart.shipping_address or {}
    billing = cart.billing_address or {}
    consent = request.session.get(CONSENT_SESSION_KEY) == cart.token
    totals = price_lines(
        items=[(line.variant, line.quantity) for line in lines],
        currency=cart.currency,
        address=address,
        shipping_method=cart.shipping_method if done["delivery"] else None,
        voucher=cart.voucher,
        email=cart.email,
    )
    priced = {id(p.variant): p for p in totals.lines}
    for line in lines:
        images = list(line.variant.images.all())
        line.picture = images[0] if images else line.variant.product.cover_image
        line.priced = priced.get(id(line.variant))
    contact_initial = {
        "email": cart.email or (user.email if user else ""),
        "accepts_marketing": consent,
    }
    return {
        "cart": cart,
        "lines": lines,
        "totals": totals,
        "steps": STEPS,
        "current": current,
        "done": done,
        "ready": all(done.values()),
        "contact_form": forms.get("contact") or ContactForm(initial=contact_initial),
        "address_form": forms.get("address")
        or AddressForm(initial=address, countries=countries, prefix="ship"),
        "billing_form": forms.get("billing")
        or AddressForm(initial=billing, countries=list(COUNTRY_NAMES), prefix="bill"),
        "billing_same": extra.pop("billing_same", cart.billing_same_as_shipping),
        "saved_form": forms.get("saved") or (SavedAddressForm(addresses=saved) if saved else None),
        "delivery_form": forms.get("delivery")
        or ShippingMethodForm(
            # The cheapest is ticked until the shopper picks (the list is cheapest first).
            initial={"method": cart.shipping_method_id or (methods[0].pk if methods else None)},
            methods=methods,
        ),
        "payment_form": forms.get("payment")
        or PaymentMethodForm(
            initial={"method": cart.payment_method or (providers[0].code if providers else "")},
            providers=providers,
        ),
        "methods": methods,
        "providers": providers,
        "chosen_provider": next((p for p in providers if p.code == cart.payment_method), None),
        "chosen_method": next((m for m in methods if m.pk == cart.shipping_method_id), None),
        "address": address,
        "billing": address if cart.billing_same_as_shipping else billing,
        "country_label": country_name(country),
        "billing_country_label": country_name(
            (address if cart.billing_same_as_shipping else billing).get("country", "")
        ),
        "consent": consent,
        "problems": extra.pop("problems", None) or cart_problems(cart=cart),
        **extra,
    }


def _checkout_render(request: HttpRequest, cart: Cart, **kwargs) -> HttpResponse:
    context = _checkout_context(request, cart, **kwargs)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{CHECKOUT_PAGE}#checkout-body", context)
    return render(request, CHECKOUT_PAGE, context)


def _save_step(request: HttpRequest, cart: Cart, step: str) -> dict | None:
    """Validate and save one step; the bound forms with errors, or None when saved."""
    data = request.POST
    if step == "contact":
        form = ContactForm(data)
        if not form.is_valid():
            return {"contact": form}
        cart_checkout_update(cart=cart, email=form.cleaned_data["email"])
        if form.cleaned_data["accepts_marketing"]:
            request.session[CONSENT_SESSION_KEY] = cart.token
        else:
            request.session.pop(CONSENT_SESSION_KEY, None)
        return None
    if step in ("address", "saved"):
        countries = ship_countries()
        if step == "saved":
            user = request.user if request.user.is_authenticated else None
            addresses = list(Address.objects.filter(customer__user=user)) if user else []
            form = SavedAddressForm(data, addresses=addresses)
            if not form.is_valid():
                return {"saved": form}
            chosen = form.chosen().as_dict()
            if chosen["country"] not in countries:
                form.add_error("address", f"We don't ship to {country_name(chosen['country'])}.")
                return {"saved": form}
            shipping, billing, same = chosen, cart.billing_address, True
        else:
            form = AddressForm(data, countries=countries, prefix="ship")
            same = data.get("billing_same") == "on"
            bill = AddressForm(data, countries=list(COUNTRY_NAMES), prefix="bill")
            errors = {}
            if not form.is_valid():
                errors["address"] = form
            if not same and not bill.is_valid():
                errors["billing"] = bill
            if errors:
                errors.setdefault("address", form)
                errors.setdefault("billing", bill)
                return errors
            shipping = form.address()
            billing = {} if same else bill.address()
        fields = {
            "shipping_address": shipping,
            "billing_address": billing,
            "billing_same_as_shipping": same,
        }
        if cart.shipping_method_id and cart.shipping_method not in shipping_methods_for(
            country=shipping["country"]
        ):
            fields["shipping_method"] = None
        cart_checkout_update(cart=cart, **fields)
        return None
    if step == "delivery":
        methods = shipping_methods_for(country=(cart.shipping_address or {}).get("country", ""))
        form = ShippingMethodForm(data, methods=methods)
        if not form.is_valid():
            return {"delivery": form}
        cart_checkout_update(cart=cart, shipping_method=form.chosen())
        return None
    if step == "payment":
        form = PaymentMethodForm(data, providers=available_providers())
        if not form.is_valid():
            return {"payment": form}
        cart_checkout_update(cart=cart, payment_method=form.cleaned_data["method"])
        return None
    raise Http404


@never_cache
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """One page, one step open at a time; each step is its own form posting here."""
    cart = cart_for_request(request)
    if cart is None or not cart.lines.exists():
        placed = request.session.get(ORDERS_SESSION_KEY)
        if placed and request.method == "GET":
            return redirect("orders:order-status", token=placed[-1])
        messages.info(request, "Your cart is empty: add something before checking out.")
        return redirect_for(request, reverse("orders:cart"))
    if request.method == "GET":
        # Stock is held from the moment it is added; starting checkout holds it again for
        # the full time, so it does not run out while the shopper types an address.
        problems = cart_holds_renew(cart=cart)
        if cart.checkout_started_at is None:
            cart_checkout_update(cart=cart)
        return _checkout_render(request, cart, problems=problems + cart_problems(cart=cart))
    step = request.POST.get("step", "")
    failed = _save_step(request, cart, step)
    if failed:
        billing_same = request.POST.get("billing_same") == "on" if "billing" in failed else None
        extra = {"billing_same": billing_same} if billing_same is not None else {}
        return _checkout_render(request, cart, forms=failed, step=step, **extra)
    if request.htmx:
        return _checkout_render(request, cart)
    return redirect(reverse("orders:checkout") + "#current-step")


@require_POST
def checkout_place(request: HttpRequest) -> HttpResponse:
    """Place the order, once: a double click or a retried POST gets the same order."""
    cart = cart_for_placing(request, request.POST.get("cart", ""))
    if cart is None:
        messages.error(request, "That cart is not yours or no longer exists.")
        return redirect_for(request, reverse("orders:cart"))
    user = request.user if request.user.is_authenticated else None
    try:
        order = order_place(cart=cart, ip_address=request.META.get("REMOTE_ADDR"), user=user)
    except CheckoutError as err:
        return _checkout_render(request, cart, problems=err.problems, step="review")
    if request.session.get(CONSENT_SESSION_KEY) == cart.token:
        customer_consent_set(customer=order.customer, accepts=True, source="checkout")
    token = order_status_token(order)
    order_remember(request, cart_token=cart.token, status_token=token)
    cart_count_forget(request)
    if order.payment_method == "stripe" and order.status == Order.Status.PENDING_PAYMENT:
        return redirect_for(request, reverse("orders:pay", args=[token]))
    return redirect_for(request, reverse("orders:order-status", args=[token]))
