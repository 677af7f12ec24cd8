"""Dashboard pages for customers: the list with search, filters and sorts, and the detail
page with figures, consent, addresses, notes and tags (orders come from the orders app,
loaded by htmx from its URL: customers sits below orders and never imports it)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from config.staff import staff_required
from customers.forms_staff import CustomerFilterForm, NoteForm, TagForm
from customers.models import Customer, CustomerTag
from customers.selectors import customer_get_for_staff_or_404, customer_list_for_staff
from customers.services import (
    AccountError,
    customer_note_set,
    customer_tag_add,
    customer_tag_remove,
)

PAGE_SIZE = 50
ORDERS_URL = "/dashboard/orders/"
DETAIL = "customers/staff/customer_detail.html"


@staff_required("customers.access_customers")
def index(request: HttpRequest) -> HttpResponse:
    filters = CustomerFilterForm(request.GET)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    page = Paginator(customer_list_for_staff(filters=cleaned), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    params = request.GET.copy()
    params.pop("page", None)
    context = {"filters": filters, "page": page, "query_without_page": params.urlencode()}
    if request.htmx and request.htmx.target == "customer-rows":
        return render(request, "customers/staff/customer_list.html#customer-rows", context)
    return render(request, "customers/staff/customer_list.html", context)


def _detail_context(customer: Customer, **extra: object) -> dict:
    return {
        "customer": customer,
        "orders_url": f"{ORDERS_URL}?customer={customer.pk}",
        "note_form": NoteForm(initial={"note": customer.note}),
        "tag_form": TagForm(),
        "all_tags": CustomerTag.objects.values_list("name", flat=True),
        **extra,
    }


@staff_required("customers.view_customer")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get_for_staff_or_404(pk)
    return render(request, DETAIL, _detail_context(customer))


@staff_required("customers.change_customer")
@require_POST
def note(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            context = _detail_context(customer, note_form=form)
            return render(request, f"{DETAIL}#customer-note", context, status=400)
        context = _detail_context(customer_get_for_staff_or_404(pk), note_form=form)
        return render(request, DETAIL, context, status=400)
    customer_note_set(customer=customer, note=form.cleaned_data["note"])
    if not request.htmx:
        messages.success(request, "Note saved.")
        return redirect("customers:staff-detail", pk=pk)
    context = _detail_context(customer, note_saved="Note saved.")
    response = render(request, f"{DETAIL}#customer-note", context)
    return trigger_client_event(response, "customer-updated")


@staff_required("customers.change_customer")
@require_POST
def tag_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    form = TagForm(request.POST)
    if form.is_valid():
        try:
            customer_tag_add(customer=customer, name=form.cleaned_data["name"])
        except AccountError as err:
            form.add_error("name", str(err))
    return _tags_answer(request, customer, form)


@staff_required("customers.change_customer")
@require_POST
def tag_remove(request: HttpRequest, pk: int, tag_pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    tag = get_object_or_404(CustomerTag, pk=tag_pk)
    customer_tag_remove(customer=customer, tag=tag)
    return _tags_answer(request, customer, TagForm())


def _tags_answer(request: HttpRequest, customer: Customer, form: TagForm) -> HttpResponse:
    failed = form.is_bound and not form.is_valid()
    if not request.htmx:
        if failed:
            context = _detail_context(customer_get_for_staff_or_404(customer.pk), tag_form=form)
            return render(request, DETAIL, context, status=400)
        return redirect("customers:staff-detail", pk=customer.pk)
    customer = customer_get_for_staff_or_404(customer.pk)
    context = _detail_context(customer, tag_form=form if failed else TagForm())
    response = render(
        request,
        f"{DETAIL}#customer-tags",
        context,
        status=400 if failed else 200,
    )
    return response if failed else trigger_client_event(response, "customer-updated")
