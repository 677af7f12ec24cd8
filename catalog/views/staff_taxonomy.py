"""Dashboard pages for the category tree and collections (catalog/urls.py includes these)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from catalog import services_taxonomy as taxonomy
from catalog.forms_taxonomy import INDENT, CategoryForm, CollectionEditor, parse_ids
from catalog.models import Category, Collection
from catalog.services import CatalogError, category_save
from config.htmx import redirect_for
from config.staff import staff_required

CATEGORIES = "catalog/staff/categories.html"
CATEGORY_FORM = "catalog/staff/categories_form.html"
COLLECTIONS = "catalog/staff/collections.html"
COLLECTION_FORM = "catalog/staff/collections_form.html"


# --- Categories ------------------------------------------------------------------------------


def _category_rows() -> dict[str, object]:
    categories = taxonomy.category_list_for_staff()
    names = {node.pk: node.name for node in categories}
    for node in categories:
        node.indent = INDENT * max(node.depth - 1, 0)  # before the "└" of a subcategory
        node.sub_indent = INDENT * node.depth  # lines its address up under its name
        node.parent_name = names.get(node.parent_id, "")
    return {"categories": categories}


@staff_required("catalog.view_category")
def category_list(request: HttpRequest) -> HttpResponse:
    template = f"{CATEGORIES}#category-rows" if request.htmx else CATEGORIES
    return render(request, template, _category_rows())


@staff_required("catalog.add_category")
def category_new(request: HttpRequest) -> HttpResponse:
    return _category_form(request, Category())


@staff_required("catalog.change_category")
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _category_form(request, get_object_or_404(Category, pk=pk))


def _category_form(request: HttpRequest, category: Category) -> HttpResponse:
    # Read before binding: a rejected form leaves its typed values on the instance.
    context = {
        "category": category,
        "heading": category.name or "New category",
        "store_url": reverse("catalog:category", args=[category.slug]) if category.pk else "",
        "child_count": category.children.count() if category.pk else 0,
        "product_count": category.products.count() if category.pk else 0,
    }
    form = CategoryForm(request.POST if request.method == "POST" else None, instance=category)
    if form.is_valid():
        try:
            saved = category_save(category=form.instance)
        except CatalogError as err:  # a loop made by someone else meanwhile
            form.add_error("parent", str(err))
        else:
            messages.success(request, f"Saved “{saved.name}”.")
            return redirect("catalog:staff-categories")
    return render(request, CATEGORY_FORM, context | {"form": form})


@staff_required("catalog.delete_category")
@require_POST
def category_delete(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(Category, pk=pk)
    try:
        taxonomy.category_delete(category=category)
    except CatalogError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, f"Deleted “{category.name}”.")
    if request.htmx and request.htmx.target == "category-rows":
        return render(request, f"{CATEGORIES}#category-rows", _category_rows())
    return redirect_for(request, reverse("catalog:staff-categories"))


# --- Collections -----------------------------------------------------------------------------


def _collection_rows() -> dict[str, object]:
    collections = taxonomy.collection_list_for_staff()
    return {
        "collections": collections,
        "capped": len(collections) >= taxonomy.COLLECTION_LIST_CAP,
        "cap": taxonomy.COLLECTION_LIST_CAP,
    }


@staff_required("catalog.view_collection")
def collection_list(request: HttpRequest) -> HttpResponse:
    template = f"{COLLECTIONS}#collection-rows" if request.htmx else COLLECTIONS
    return render(request, template, _collection_rows())


@staff_required("catalog.add_collection")
def collection_new(request: HttpRequest) -> HttpResponse:
    return _collection_form(request, Collection())


@staff_required("catalog.change_collection")
def collection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _collection_form(request, get_object_or_404(Collection, pk=pk))


def _collection_form(request: HttpRequest, collection: Collection) -> HttpResponse:
    if request.method == "GET" and request.htmx and request.htmx.target == "product-results":
        # The picker's live search: a read, so a GET of this same page.
        results = taxonomy.product_search_for_picker(
            query=request.GET.get("product_q", ""),
            exclude_ids=parse_ids(request.GET.getlist("products")),
        )
        context = {"results": results, "query": request.GET.get("product_q", "").strip()}
        return render(request, f"{COLLECTION_FORM}#product-results", context)
    context = {
        "collection": collection,
        "heading": collection.title or "New collection",
        "store_url": reverse("catalog:collection", args=[collection.slug]) if collection.pk else "",
    }
    editor = CollectionEditor(
        collection=collection, data=request.POST if request.method == "POST" else None
    )
    if request.method == "POST" and editor.action == "save" and editor.is_valid():
        typed, products = editor.to_save()
        try:
            saved = taxonomy.collection_save(collection=typed, products=products)
        except CatalogError as err:  # the form checked first; this is a race or a new rule
            editor.form.add_error(None, str(err))
        else:
            messages.success(request, f"Saved “{saved.title}”.")
            return redirect("catalog:staff-collections")
    template = COLLECTION_FORM + editor.partial(bool(request.htmx))
    response = render(request, template, context | editor.context())
    if editor.action.startswith("product-"):
        # The search results refresh themselves, so a product just added leaves them; after
        # the swap, so the refreshed search already sends the new list of chosen products.
        trigger_client_event(response, "picker-changed", after="swap")
    return response


@staff_required("catalog.delete_collection")
@require_POST
def collection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    collection = get_object_or_404(Collection, pk=pk)
    taxonomy.collection_delete(collection=collection)
    messages.success(request, f"Deleted “{collection.title}”. Its products are untouched.")
    if request.htmx and request.htmx.target == "collection-rows":
        return render(request, f"{COLLECTIONS}#collection-rows", _collection_rows())
    return redirect_for(request, reverse("catalog:staff-collections"))


_BASE = "dashboard/catalog"
urlpatterns = [
    path(f"{_BASE}/categories/", category_list, name="staff-categories"),
    path(f"{_BASE}/categories/new/", category_new, name="staff-category-new"),
    path(f"{_BASE}/categories/<int:pk>/", category_edit, name="staff-category"),
    path(f"{_BASE}/categories/<int:pk>/delete/", category_delete, name="staff-category-delete"),
    path(f"{_BASE}/collections/", collection_list, name="staff-collections"),
    path(f"{_BASE}/collections/new/", collection_new, name="staff-collection-new"),
    path(f"{_BASE}/collections/<int:pk>/", collection_edit, name="staff-collection"),
    path(
        f"{_BASE}/collections/<int:pk>/delete/", collection_delete, name="staff-collection-delete"
    ),
]
