"""The shopper's side: the cart, checkout, and the order pages (status link and account).

Every page works as a plain form post and full page; with htmx the same views answer with
the page's region (`cart-body`, `checkout-body`) and fire `cart-updated` for the header.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from catalog.models import ProductImage, Variant
from config.htmx import redirect_for
from customers.models import Address
from customers.records import customer_consent_set
from orders.cart_session import (
    ORDERS_SESSION_KEY,
    cart_count_for_request,
    cart_count_forget,
    cart_for_placing,
    cart_for_request,
    order_remember,
)
from orders.emails import order_status_token
from orders.forms import (
    COUNTRY_NAMES,
    AddressForm,
    AddToCartForm,
    ContactForm,
    PaymentMethodForm,
    QuantityForm,
    SavedAddressForm,
    ShippingMethodForm,
    VoucherForm,
    country_name,
)
from orders.models import (
    Cart,
    CartLine,
    Order,
    OrderEvent,
    Payment,
    Refund,
    ShippingZone,
    Voucher,
)
from orders.payments import available_providers, provider_for
from orders.pricing import VoucherError, price_lines, shipping_methods_for, shipping_price
from orders.selectors import order_get_for_status_token_or_404, order_get_for_user_or_404
from orders.services import (
    CartError,
    CheckoutError,
    cart_add,
    cart_checkout_update,
    cart_holds_renew,
    cart_prices_acknowledge,
    cart_problems,
    cart_set_quantity,
    cart_voucher_apply,
    cart_voucher_remove,
    order_place,
)

CART_PAGE = "orders/storefront/cart.html"
CHECKOUT_PAGE = "orders/storefront/checkout.html"
ORDER_PAGE = "orders/storefront/order.html"
# The checkout remembers the marketing checkbox here until the order exists.
CONSENT_SESSION_KEY = "checkout_marketing"


# --- Cart ------------------------------------------------------------------------------------


def _lines(cart: Cart) -> list[CartLine]:
    return list(
        cart.lines.select_related(
            "variant__product__category", "variant__product__cover_image"
        ).prefetch_related(
            Prefetch("variant__images", queryset=ProductImage.objects.order_by("position", "pk"))
        )
    )


def _voucher(cart: Cart) -> Voucher | None:
    """The cart's voucher with its products and categories, read once for every pricing."""
    if cart.voucher_id is None:
        return None
    return Voucher.objects.prefetch_related("products", "categories").get(pk=cart.voucher_id)


def ship_countries() -> list[str]:
    """Countries the checkout offers: those of zones with at least one active method."""
    zones = ShippingZone.objects.filter(methods__is_active=True).order_by("pk")
    countries: list[str] = []
    for zone_countries in zones.values_list("countries", flat=True):
        countries += [code.upper() for code in zone_countries if code.upper() not in countries]
    return countries


def _cart_context(request: HttpRequest, cart: Cart | None, **extra) -> dict:
    """The cart page: lines, totals with a shipping estimate, problems and the voucher."""
    if cart is None:
        return {"cart": None, "lines": [], **extra}
    lines = _lines(cart)
    countries = ship_countries()
    country = (cart.shipping_address or {}).get("country") or (countries[0] if countries else "")
    address = (
        cart.shipping_address if cart.shipping_address.get("country") else {"country": country}
    )
    items = [(line.variant, line.quantity) for line in lines]
    # The header's badge counts from these lines instead of asking again.
    request._cart_count = sum(line.quantity for line in lines)
    voucher = _voucher(cart)
    # Without the address first (no tax yet): the subtotal picks the cheapest method.
    totals = price_lines(items=items, currency=cart.currency, voucher=voucher, email=cart.email)
    # Shipping estimate: the cheapest method to the destination (chosen later at checkout).
    estimate = None
    methods = shipping_methods_for(country=country) if lines else []
    if methods:
        subtotal = totals.subtotal - totals.discount
        method = min(
            methods,
            key=lambda m: shipping_price(m, subtotal=subtotal, weight_grams=totals.weight_grams)[0],
        )
        totals = price_lines(
            items=items,
            currency=cart.currency,
            address=address,
            shipping_method=method,
            voucher=voucher,
            email=cart.email,
        )
        estimate = {"country": country_name(country), "price": totals.shipping}
    elif lines:
        totals = price_lines(
            items=items, currency=cart.currency, address=address, voucher=voucher, email=cart.email
        )
    priced = {id(p.variant): p for p in totals.lines}
    for line in lines:
        images = list(line.variant.images.all())
        line.picture = images[0] if images else line.variant.product.cover_image
        line.priced = priced.get(id(line.variant))
        line.gone = line.variant.product.status != "active"
        line.price_changed = not line.gone and line.price_seen != line.variant.price
    problems = cart_problems(cart=cart) if lines else []
    return {
        "cart": cart,
        "lines": lines,
        "totals": totals,
        "estimate": estimate,
        "problems": problems,
        "price_changes": any(line.price_changed for line in lines),
        "voucher_form": extra.pop("voucher_form", None) or VoucherForm(),
        "hold_minutes": settings.CART_RESERVATION_MINUTES,
        **extra,
    }


def _cart_answer(request: HttpRequest, cart: Cart | None, **extra) -> HttpResponse:
    """The cart region for htmx (and the header told to recount), else the cart page."""
    if request.htmx:
        response = render(request, f"{CART_PAGE}#cart-body", _cart_context(request, cart, **extra))
        return trigger_client_event(response, "cart-updated")
    error = extra.get("error")
    if error:
        messages.error(request, error)
    return redirect("orders:cart")


@never_cache
@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    cart = cart_for_request(request)
    context = _cart_context(request, cart)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{CART_PAGE}#cart-body", context)
    return render(request, CART_PAGE, context)


def _back_to_product(request: HttpRequest, variant_id: int | None) -> HttpResponse:
    """Without JS, a refused add goes back to the page it came from (with its choice)."""
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(referer)
    slug = (
        Variant.objects.filter(pk=variant_id).values_list("product__slug", flat=True).first()
        if variant_id
        else None
    )
    return redirect("catalog:product", slug) if slug else redirect("catalog:home")


@require_POST
def cart_add_view(request: HttpRequest) -> HttpResponse:
    """Add-to-cart from the product page: htmx gets a status line, a form post the cart."""
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        error = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        error = f"Could not add this: {error}"
        if request.htmx:
            return render(request, f"{CART_PAGE}#add-status", {"error": error})
        messages.error(request, error)
        return _back_to_product(request, None)
    cart = cart_for_request(request, create=True)
    try:
        line = cart_add(
            cart=cart,
            variant_id=form.cleaned_data["variant"],
            quantity=form.cleaned_data["quantity"],
        )
    except CartError as err:
        if request.htmx:
            return render(request, f"{CART_PAGE}#add-status", {"error": str(err)})
        messages.error(request, str(err))
        return _back_to_product(request, form.cleaned_data["variant"])
    added = form.cleaned_data["quantity"]
    text = (
        f"Added {added} of {line.variant} to your cart."
        if added > 1
        else f"Added {line.variant} to your cart."
    )
    if request.htmx:
        response = render(request, f"{CART_PAGE}#add-status", {"added": text})
        return trigger_client_event(response, "cart-updated")
    messages.success(request, text)
    return redirect("orders:cart")


@require_GET
def cart_count(request: HttpRequest) -> HttpResponse:
    """The header's cart badge, fetched again on `cart-updated`."""
    response = render(
        request, f"{CART_PAGE}#cart-count", {"count": cart_count_for_request(request)}
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def cart_line(request: HttpRequest, variant_id: int) -> HttpResponse:
    """Change a line's quantity (0 removes it)."""
    cart = cart_for_request(request)
    if cart is None or not cart.lines.filter(variant_id=variant_id).exists():
        return _cart_answer(request, cart, error="That item is no longer in your cart.")
    form = QuantityForm(request.POST)
    if not form.is_valid():
        return _cart_answer(request, cart, error="Choose a quantity from 0 to 99.")
    try:
        cart_set_quantity(cart=cart, variant_id=variant_id, quantity=form.wanted())
    except CartError as err:
        return _cart_answer(request, cart, error=str(err))
    cart_count_forget(request)
    return _cart_answer(request, cart)


@require_POST
def cart_remove(request: HttpRequest, variant_id: int) -> HttpResponse:
    cart = cart_for_request(request)
    if cart is not None:
        try:
            cart_set_quantity(cart=cart, variant_id=variant_id, quantity=0)
        except CartError as err:
            return _cart_answer(request, cart, error=str(err))
    return _cart_answer(request, cart)


@require_POST
def cart_voucher(request: HttpRequest) -> HttpResponse:
    cart = cart_for_request(request)
    form = VoucherForm(request.POST)
    if cart is None or not cart.lines.exists():
        return _cart_answer(request, cart, error="Add something to your cart first.")
    if form.is_valid():
        try:
            voucher = cart_voucher_apply(cart=cart, code=form.cleaned_data["code"])
        except VoucherError as err:
            form.add_error("code", str(err))
        else:
            if request.htmx:
                return _cart_answer(request, cart, notice=f"Code {voucher.code} applied.")
            messages.success(request, f"Code {voucher.code} applied.")
            return redirect("orders:cart")
    if request.htmx:
        return _cart_answer(request, cart, voucher_form=form)
    context = _cart_context(request, cart, voucher_form=form)
    return render(request, CART_PAGE, context, status=200)


@require_POST
def cart_voucher_remove_view(request: HttpRequest) -> HttpResponse:
    cart = cart_for_request(request)
    if cart is not None:
        cart_voucher_remove(cart=cart)
    return _cart_answer(request, cart)


@require_POST
def cart_acknowledge(request: HttpRequest) -> HttpResponse:
    """The shopper saw the new prices."""
    cart = cart_for_request(request)
    if cart is not None:
        cart_prices_acknowledge(cart=cart)
    return _cart_answer(request, cart)


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
    lines = _lines(cart)
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


# --- Orders ----------------------------------------------------------------------------------


def _timeline(order: Order) -> list[dict]:
    """What the shopper is told happened, in order: no staff notes, no risk, no internals."""
    entries = [{"at": order.created_at, "title": "Order placed", "kind": "placed"}]
    for payment in order.payments.all():
        if payment.status == Payment.Status.SUCCEEDED and payment.succeeded_at:
            entries.append(
                {"at": payment.succeeded_at, "title": "Payment received", "kind": "paid"}
            )
        elif payment.status == Payment.Status.FAILED:
            detail = payment.failure_message or "The payment did not go through."
            entries.append(
                {
                    "at": payment.updated_at,
                    "title": "Payment failed",
                    "text": detail,
                    "kind": "failed",
                }
            )
    wording = {
        Order.Status.PARTIALLY_FULFILLED: "Part of your order has shipped",
        Order.Status.FULFILLED: "Shipped",
        Order.Status.CANCELLED: "Cancelled",
    }
    for event in order.events.filter(kind=OrderEvent.Kind.STATUS, to_status__in=list(wording)):
        entries.append(
            {"at": event.created_at, "title": wording[event.to_status], "kind": "status"}
        )
    for refund in order.refunds.all():
        if refund.status == Refund.Status.SUCCEEDED:
            entries.append(
                {
                    "at": refund.created_at,
                    "title": "Refund issued",
                    "amount": refund.amount,
                    "kind": "refund",
                }
            )
    return sorted(entries, key=lambda entry: entry["at"])


def _order_context(request: HttpRequest, order: Order, token: str) -> dict:
    try:
        provider = provider_for(order.payment_method)
    except Exception:
        provider = None
    due = order.status == Order.Status.PENDING_PAYMENT and order.balance_due > 0
    payments = list(order.payments.all())
    failed = (
        next((p for p in reversed(payments) if p.status == Payment.Status.FAILED), None)
        if order.payment_status == Order.PaymentStatus.FAILED
        else None
    )
    return {
        "order": order,
        "lines": list(order.lines.all()),
        "timeline": _timeline(order),
        "provider": provider,
        "payment_due": due,
        "pay_url": reverse("orders:pay", args=[token])
        if due and (failed or not getattr(provider, "is_manual", True))
        else None,
        "instructions": getattr(provider, "instructions", "") if due else "",
        "failed_payment": failed,
        "just_placed": token in request.session.get(ORDERS_SESSION_KEY, []),
        "shipping_country": country_name(order.shipping_address.get("country", "")),
        "billing_country": country_name(order.billing_address.get("country", "")),
        "bank_details": settings.BANK_TRANSFER_DETAILS,
    }


@never_cache
@require_GET
def order_status(request: HttpRequest, token: str) -> HttpResponse:
    """The order page of the signed link (email, checkout confirmation): no sign-in needed."""
    order = order_get_for_status_token_or_404(token=token)
    return render(request, ORDER_PAGE, _order_context(request, order, token))


@never_cache
@login_required(login_url="customers:account-login")
@require_GET
def account_orders(request: HttpRequest) -> HttpResponse:
    orders = (
        Order.objects.filter(customer__user=request.user)
        .annotate(items=Sum("lines__quantity"))
        .order_by("-created_at", "-id")
    )
    page = Paginator(orders, 10).get_page(request.GET.get("page"))
    context = {"page": page}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "orders/storefront/account_orders.html#order-list", context)
    return render(request, "orders/storefront/account_orders.html", context)


@never_cache
@login_required(login_url="customers:account-login")
@require_GET
def account_order(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get_for_user_or_404(user=request.user, number=number)
    context = _order_context(request, order, order_status_token(order))
    context["in_account"] = True
    return render(request, ORDER_PAGE, context)
