"""Dashboard pages for products: the list with filters and bulk actions, and the editor."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from catalog.csv_io import products_csv_export
from catalog.forms import (
    BulkActionForm,
    ImageUploadForm,
    ImportUploadForm,
    OptionForm,
    ProductFilterForm,
    ProductForm,
    VariantForm,
)
from catalog.images import product_image_add, product_image_remove, product_images_reorder
from catalog.imports import import_progress, product_import_start
from catalog.models import Category, OptionValue, Product, ProductImage, ProductImport, Tag, Variant
from catalog.selectors import product_get_for_staff, product_list_for_staff
from catalog.services import (
    CatalogError,
    option_set,
    prices_change_by_percent,
    product_create,
    product_duplicate,
    product_update,
    products_set_category,
    products_set_status,
    tag_get_or_create,
    variant_delete,
    variant_save,
)
from config.staff import staff_required

PAGE_SIZE = 50
# Bulk action -> (status, past tense for the message)
STATUS_ACTIONS = {
    "publish": (Product.Status.ACTIVE, "published"),
    "archive": (Product.Status.ARCHIVED, "archived"),
    "draft": (Product.Status.DRAFT, "unpublished"),
}


@staff_required("catalog.access_catalog")
def index(request: HttpRequest) -> HttpResponse:
    return redirect("catalog:staff-products")


def _product_rows(request: HttpRequest, query: dict | None = None) -> dict:
    filters = ProductFilterForm(query if query is not None else request.GET)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    page = Paginator(product_list_for_staff(filters=cleaned), PAGE_SIZE).get_page(
        (query or request.GET).get("page")
    )
    params = (query or request.GET).copy()
    params.pop("page", None)
    return {
        "filters": filters,
        "page": page,
        "query_without_page": params.urlencode(),
        "bulk_categories": list(Category.objects.order_by("path")),
    }


@staff_required("catalog.view_product")
def product_list(request: HttpRequest) -> HttpResponse:
    context = _product_rows(request) | {"bulk": BulkActionForm()}
    if request.htmx and request.htmx.target == "product-rows":
        return render(request, "catalog/staff/product_list.html#product-rows", context)
    return render(request, "catalog/staff/product_list.html", context)


@staff_required("catalog.change_product")
@require_POST
def product_bulk(request: HttpRequest) -> HttpResponse:
    """Apply one action to the ticked products, then answer with the fresh rows."""
    form = BulkActionForm(request.POST)
    if form.is_valid():
        products = list(form.cleaned_data["products"])
        action = form.cleaned_data["action"]
        try:
            done = _apply(action, products, form.cleaned_data, request.user)
        except CatalogError as err:
            messages.error(request, str(err))
        else:
            messages.success(request, done)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    filters = request.POST.get("filters", "")
    if not request.htmx:
        return redirect(f"{request.path.removesuffix('bulk/')}?{filters}")
    context = _product_rows(request, QueryDict(filters)) | {"bulk": form}
    response = render(request, "catalog/staff/product_list.html#product-rows", context)
    return trigger_client_event(response, "products-updated")


def _apply(action: str, products: list[Product], data: dict, actor: object) -> str:
    count = len(products)
    noun = "product" if count == 1 else "products"
    if action in STATUS_ACTIONS:
        status, done = STATUS_ACTIONS[action]
        changed = products_set_status(products=products, status=status)
        return f"{changed} of {count} {noun} {done}."
    if action == "category":
        products_set_category(products=products, category=data["category"])
        return f"{count} {noun} moved to {data['category'].name}."
    changed = prices_change_by_percent(products=products, percent=data["percent"], actor=actor)
    return f"Prices of {changed} variants changed by {data['percent']} %."


# --- The product editor ------------------------------------------------------------------------


def _editor_context(product: Product, **extra: object) -> dict:
    product = product_get_for_staff(product_id=product.pk)
    return {
        "product": product,
        "options": list(product.options.all()),
        "variants": list(product.variants.all()),
        "images": list(product.images.all()),
        "option_form": OptionForm(),
        "variant_form": VariantForm(prefix="new"),
        "image_form": ImageUploadForm(product=product),
        **extra,
    }


def _tags(names: list[str]) -> list[Tag]:
    return [tag_get_or_create(name=name) for name in names]


@staff_required("catalog.add_product")
def product_new(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["tags"] = _tags(data.pop("tags"))
        related = data.pop("related")
        try:
            product = product_create(**data)
            if related:
                product_update(product=product, related_products=related)
        except CatalogError as err:
            form.add_error(None, str(err))
        else:
            messages.success(request, "Product created as a draft. Add its variants, then publish.")
            return redirect("catalog:staff-product", product.pk)
    return render(request, "catalog/staff/product_form.html", {"form": form})


@staff_required("catalog.view_product")
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = product_get_for_staff(product_id=pk)
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST":
        if not request.user.has_perm("catalog.change_product"):
            raise PermissionDenied("Your role cannot change products.")
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in ProductForm.Meta.fields}
            try:
                product_update(
                    product=product,
                    tags=_tags(form.cleaned_data["tags"]),
                    related_products=form.cleaned_data["related"],
                    **data,
                )
            except CatalogError as err:
                form.add_error(None, str(err))
            else:
                messages.success(request, "Product saved.")
                return redirect("catalog:staff-product", product.pk)
    return render(request, "catalog/staff/product_edit.html", _editor_context(product, form=form))


def _variants_region(request: HttpRequest, product: Product, **extra: object) -> HttpResponse:
    context = _editor_context(product, form=ProductForm(instance=product), **extra)
    if request.htmx:
        response = render(request, "catalog/staff/product_edit.html#variants", context)
        return trigger_client_event(response, "variants-updated")
    return redirect("catalog:staff-product", product.pk)


@staff_required("catalog.change_product")
@require_POST
def product_option_save(request: HttpRequest, pk: int) -> HttpResponse:
    product = product_get_for_staff(product_id=pk)
    form = OptionForm(request.POST)
    if form.is_valid():
        try:
            option_set(
                product=product, name=form.cleaned_data["name"], values=form.cleaned_data["values"]
            )
        except CatalogError as err:
            form.add_error(None, str(err))
    if form.errors and not request.htmx:
        for error in form.errors.as_data().values():
            messages.error(request, " ".join(e.messages[0] for e in error))
    return _variants_region(request, product, option_form=form if form.errors else OptionForm())


@staff_required("catalog.change_product")
@require_POST
def product_variant_save(
    request: HttpRequest, pk: int, variant_pk: int | None = None
) -> HttpResponse:
    """Add a variant (variant_pk None) or save one row of the variants table."""
    product = product_get_for_staff(product_id=pk)
    variant = get_object_or_404(Variant, pk=variant_pk, product=product) if variant_pk else None
    prefix = f"v{variant_pk}" if variant_pk else "new"
    form = VariantForm(request.POST, instance=variant, prefix=prefix)
    value_ids = request.POST.getlist(f"{prefix}-option_value")
    values = list(OptionValue.objects.filter(option__product=product, pk__in=value_ids))
    if form.is_valid():
        instance = form.save(commit=False)
        instance.product = product
        instance.currency = product.currency
        if variant is None:
            instance.position = len(product.variants.all())
            instance.title = ""
        try:
            variant_save(variant=instance, option_values=values or None, actor=request.user)
        except CatalogError as err:
            form.add_error(None, str(err))
    extra = {"row_errors": {variant_pk or "new": form}} if form.errors else {}
    if form.errors and not request.htmx:
        messages.error(request, "; ".join(m for errors in form.errors.values() for m in errors))
    return _variants_region(request, product, **extra)


@staff_required("catalog.change_product")
@require_POST
def product_variant_delete(request: HttpRequest, pk: int, variant_pk: int) -> HttpResponse:
    product = product_get_for_staff(product_id=pk)
    variant_delete(variant=get_object_or_404(Variant, pk=variant_pk, product=product))
    return _variants_region(request, product)


@staff_required("catalog.change_product")
@require_POST
def product_status(request: HttpRequest, pk: int) -> HttpResponse:
    product = product_get_for_staff(product_id=pk)
    status = request.POST.get("status", "")
    try:
        products_set_status(products=[product], status=status)
    except CatalogError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, f"Product is now {Product.Status(status).label.lower()}.")
    return redirect("catalog:staff-product", product.pk)


@staff_required("catalog.add_product")
@require_POST
def product_duplicate_view(request: HttpRequest, pk: int) -> HttpResponse:
    copy = product_duplicate(product=product_get_for_staff(product_id=pk), actor=request.user)
    messages.success(request, "This is a draft copy. Change what differs, then publish.")
    return redirect("catalog:staff-product", copy.pk)


# --- Images ------------------------------------------------------------------------------------


def _images_region(request: HttpRequest, product: Product, **extra: object) -> HttpResponse:
    if request.htmx:
        context = _editor_context(product, form=ProductForm(instance=product), **extra)
        return render(request, "catalog/staff/product_edit.html#images", context)
    return redirect("catalog:staff-product", product.pk)


@staff_required("catalog.change_product")
@require_POST
def product_image_upload(request: HttpRequest, pk: int) -> HttpResponse:
    product = product_get_for_staff(product_id=pk)
    form = ImageUploadForm(request.POST, request.FILES, product=product)
    if form.is_valid():
        try:
            product_image_add(
                product=product,
                upload=form.cleaned_data["image"],
                alt=form.cleaned_data["alt"],
                variant=form.cleaned_data["variant"],
            )
        except CatalogError as err:
            form.add_error("image", str(err))
    if form.errors:
        if not request.htmx:
            messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return _images_region(request, product, image_form=form)
    return _images_region(request, product)


@staff_required("catalog.change_product")
@require_POST
def product_image_move(request: HttpRequest, pk: int, image_pk: int) -> HttpResponse:
    """Move one image a place earlier or later (buttons that work without JavaScript)."""
    product = product_get_for_staff(product_id=pk)
    ids = [image.pk for image in product.images.all()]
    if image_pk not in ids:
        raise Http404("No such image.")
    index = ids.index(image_pk)
    target = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= target < len(ids):
        ids[index], ids[target] = ids[target], ids[index]
        product_images_reorder(product=product, image_ids=ids)
    return _images_region(request, product_get_for_staff(product_id=pk))


@staff_required("catalog.change_product")
@require_POST
def product_image_delete(request: HttpRequest, pk: int, image_pk: int) -> HttpResponse:
    product = product_get_for_staff(product_id=pk)
    product_image_remove(image=get_object_or_404(ProductImage, pk=image_pk, product=product))
    return _images_region(request, product_get_for_staff(product_id=pk))


# --- CSV import and export ------------------------------------------------------------------


# An import creates and changes products and prices: it needs change_product.
@staff_required("catalog.change_product")
def product_imports(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = product_import_start(upload=form.cleaned_data["file"], actor=request.user)
        except CatalogError as err:
            form.add_error("file", str(err))
        else:
            return redirect("catalog:staff-import", job.pk)
    recent = ProductImport.objects.select_related("created_by")[:20]
    return render(request, "catalog/staff/imports.html", {"form": form, "imports": recent})


@staff_required("catalog.change_product")
def product_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ProductImport, pk=pk)
    done, total = import_progress(job=job)
    context = {"job": job, "done": done, "total": total}
    if request.htmx:
        return render(request, "catalog/staff/import_detail.html#import-status", context)
    return render(request, "catalog/staff/import_detail.html", context)


# The export carries cost prices, which roles that only read the catalog do not see.
@staff_required("catalog.change_product")
def product_export(request: HttpRequest) -> StreamingHttpResponse:
    """All products as CSV, in the columns the import reads; streamed, so it can be large."""
    stamp = timezone.now().strftime("%Y-%m-%d")
    response = StreamingHttpResponse(products_csv_export(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="products-{stamp}.csv"'
    return response
