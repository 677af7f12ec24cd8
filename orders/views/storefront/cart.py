"""The shopper's cart: the page, adding from a product page, quantities, vouchers.

Every change works as a plain form post (then the cart page) and with htmx (the page's
`cart-body` region, and `cart-updated` fired so the header's count refreshes).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from catalog.models import Product, ProductImage, Variant
from orders.cart_session import (
    cart_count_for_request,
    cart_count_forget,
    cart_for_request,
)
from orders.forms import (
    AddToCartForm,
    QuantityForm,
    VoucherForm,
    country_name,
)
from orders.models import (
    Cart,
    CartLine,
    Voucher,
)
from orders.pricing import (
    VoucherError,
    price_lines,
    ship_countries,
    shipping_methods_for,
    shipping_price,
)
from orders.services import (
    CartError,
    cart_add,
    cart_prices_acknowledge,
    cart_problems,
    cart_set_quantity,
    cart_voucher_apply,
    cart_voucher_remove,
)

CART_PAGE = "orders/storefront/cart.html"


# --- Cart ------------------------------------------------------------------------------------


def lines_for_page(cart: Cart) -> list[CartLine]:
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


def _cart_context(request: HttpRequest, cart: Cart | None, **extra) -> dict:
    """The cart page: lines, totals with a shipping estimate, problems and the voucher."""
    if cart is None:
        return {"cart": None, "lines": [], **extra}
    lines = lines_for_page(cart)
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
        line.gone = line.variant.product.status != Product.Status.ACTIVE
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
