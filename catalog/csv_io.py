"""CSV import and export of products and their variants, one row per variant.

Import is two steps so that nothing is written unless the whole file is good:
`products_csv_parse` checks every row and reports every bad one by its line, then
`products_import` writes the plan through the catalog services in one transaction.

Rows with the same `handle` (the product's slug) are one product; its product-level
cells are read from its first row and may be left blank on the others. A column left
out of the file leaves that field alone; a column present but blank clears the field
(blank `title` and `status` keep them). Variants are matched by SKU. Variants and
options of a product that the file does not mention are kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from catalog.models import Category, OptionValue, Product, ProductOption, Tag, Variant
from catalog.services import (
    CatalogError,
    option_set,
    product_create,
    product_update,
    products_set_status,
    tag_get_or_create,
    variant_save,
)
from config.csvsafe import defuse, restore
from config.money import money_parse

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
# Lookups go to the database in batches: SQLite caps the parameters of one query.
BATCH = 500
PROGRESS_EVERY = 100
OPTION_SLOTS = 3
MAX_AMOUNT = Decimal("9999999999.99")  # DecimalField(max_digits=12, decimal_places=2)
MAX_WEIGHT = 2_147_483_647  # PositiveIntegerField

PRODUCT_COLUMNS = (
    "title",
    "description",
    "vendor",
    "product_type",
    "status",
    "category",
    "tags",
    "seo_title",
    "seo_description",
)
OPTION_COLUMNS = tuple(
    f"option{slot}_{part}" for slot in range(1, OPTION_SLOTS + 1) for part in ("name", "value")
)
VARIANT_COLUMNS = (
    "sku",
    "barcode",
    "price",
    "compare_at_price",
    "cost",
    "weight_grams",
    "track_inventory",
)
COLUMNS = ("handle", *PRODUCT_COLUMNS, *OPTION_COLUMNS, *VARIANT_COLUMNS)
REQUIRED_COLUMNS = ("handle", "sku", "price")
TEXT_FIELDS = ("description", "vendor", "product_type", "seo_title", "seo_description")
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass(frozen=True)
class RowError:
    """One reason a row (or, with no line, the whole file) cannot be imported."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class VariantPlan:
    line: int
    sku: str
    option_values: tuple[str, ...]
    # Only the variant fields whose columns the file has, already parsed.
    fields: dict[str, object]


@dataclass
class ProductPlan:
    handle: str
    line: int
    # Only the product fields whose columns the file has, from the product's first row.
    fields: dict[str, object]
    tags: list[str] | None
    option_names: tuple[str, ...]
    variants: list[VariantPlan] = field(default_factory=list)

    def option_values_of(self, slot: int) -> list[str]:
        """The values of option `slot` in the order the file first uses them."""
        return list(dict.fromkeys(variant.option_values[slot] for variant in self.variants))


@dataclass
class ImportPlan:
    products: list[ProductPlan]
    errors: list[RowError]
    rows: int

    @property
    def variant_count(self) -> int:
        return sum(len(product.variants) for product in self.products)


@dataclass
class ImportResult:
    products_created: int = 0
    products_updated: int = 0
    products_unchanged: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    variants_unchanged: int = 0
    tags_created: int = 0


class CsvImportError(CatalogError):
    """A plan with bad rows was handed to products_import; `errors` lists them."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        super().__init__(f"The file has {len(self.errors)} errors; nothing was imported.")


# --- Parsing ---------------------------------------------------------------------------------


def products_csv_parse(*, file: IO[bytes] | bytes) -> ImportPlan:
    """Read a products CSV and check every row; returns the plan and every error found.

    Reads the database (in a fixed number of batched queries) but writes nothing.
    """
    text, error = _read_text(file)
    if error is not None:
        return ImportPlan(products=[], errors=[error], rows=0)
    records, error = _read_records(text)
    if error is not None:
        return ImportPlan(products=[], errors=[error], rows=0)
    if not records:
        return ImportPlan(products=[], errors=[RowError(None, "The file is empty.")], rows=0)
    header_line, header = records[0]
    names = [cell.strip().lower() for cell in header]
    header_errors = _check_header(names)
    if header_errors:
        return ImportPlan(
            products=[], errors=[RowError(header_line, m) for m in header_errors], rows=0
        )
    checker = _Checker(names, records[1:])
    return ImportPlan(
        products=list(checker.products.values()),
        errors=sorted(checker.errors, key=lambda error: error.line or 0),
        rows=len(records) - 1,
    )


def _read_text(file: IO[bytes] | bytes) -> tuple[str, RowError | None]:
    data = file if isinstance(file, bytes | str) else file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return "", RowError(None, f"The file is larger than {MAX_BYTES // 2**20} MB; split it.")
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), None
    try:
        # utf-8-sig drops the byte order mark spreadsheets put in front of "CSV UTF-8".
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return "", RowError(
            line,
            f"the file is not UTF-8 text (byte 0x{data[err.start]:02x}); save it as CSV UTF-8.",
        )


# A cell starting with one of these is run as a formula by spreadsheet programs
# ("=HYPERLINK(...)", "@SUM(...)"): the export prefixes an apostrophe, which spreadsheets
# hide and the import removes again, so a file round-trips unchanged.
def _read_records(text: str) -> tuple[list[tuple[int, list[str]]], RowError | None]:
    """Non-blank CSV records with the physical line each starts on (the header is line 1)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                if len(records) > MAX_ROWS:
                    return records, RowError(
                        start, f"the file has more than {MAX_ROWS:,} rows; split it."
                    )
                records.append((start, [restore(cell) for cell in cells]))
            start = reader.line_num + 1
    except csv.Error as err:
        return records, RowError(start, f"this is not valid CSV ({err}).")
    return records, None


def _check_header(names: list[str]) -> list[str]:
    messages = []
    unknown = [name for name in names if name and name not in COLUMNS]
    if unknown:
        messages.append(
            f"unknown columns: {', '.join(unknown)}. The columns are: {', '.join(COLUMNS)}."
        )
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        messages.append(f"columns appear twice: {', '.join(repeated)}.")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        messages.append(f"missing columns: {', '.join(missing)}.")
    return messages


def _max_length(model: type, name: str) -> int:
    return model._meta.get_field(name).max_length


def _split_tags(cell: str) -> list[str]:
    names: dict[str, str] = {}
    for part in cell.split(","):
        if part.strip():
            names.setdefault(part.strip().lower(), part.strip())
    return list(names.values())


class _Checker:
    """Checks the rows in file order; collects the plan and every error."""

    def __init__(self, names: list[str], records: list[tuple[int, list[str]]]) -> None:
        self.columns = {name for name in names if name}
        self.errors: list[RowError] = []
        self.products: dict[str, ProductPlan] = {}
        self.first_rows: dict[str, dict[str, str]] = {}
        self.sku_lines: dict[str, int] = {}
        self.combos: dict[str, dict[tuple[str, ...], str]] = {}
        self.spellings: dict[tuple[str, int, str], tuple[str, int]] = {}
        self.bad_options: set[str] = set()
        rows = []
        for line, cells in records:
            extra = [c for i, c in enumerate(cells) if (i >= len(names) or not names[i])]
            if any(cell.strip() for cell in extra):
                self.errors.append(
                    RowError(line, "has values in columns the header does not name.")
                )
            rows.append(
                (line, {n: (cells[i] if i < len(cells) else "") for i, n in enumerate(names) if n})
            )
        self._load(rows)
        for line, row in rows:
            self._check_row(line, row)

    def _load(self, rows: list[tuple[int, dict[str, str]]]) -> None:
        """Fetch what the rows refer to in a few batched queries, never one per row."""
        handles = {row["handle"].strip() for _, row in rows}
        skus = {row["sku"].strip() for _, row in rows} - {""}
        self.file_skus = {sku.lower() for sku in skus}
        slugs = {row.get("category", "").strip() for _, row in rows} - {""}
        self.categories: dict[str, int] = {}
        for chunk in _chunks(slugs):
            self.categories.update(
                Category.objects.filter(slug__in=chunk).values_list("slug", "pk")
            )
        self.existing = _products_by_slug(handles)
        self.sku_owners = _variants_by_sku(skus)

    def _check_row(self, line: int, row: dict[str, str]) -> None:
        errors: list[str] = []
        handle = row["handle"].strip()
        plan = None
        if not handle:
            errors.append("handle is required.")
        elif reason := _slug_error(handle):
            errors.append(f"handle {handle!r} {reason}")
        elif handle in self.products:
            plan = self.products[handle]
            self._check_agrees(row, plan, errors)
        else:
            plan = self._start_product(line, handle, row, errors)
        variant = self._variant(line, row, plan, errors)
        if plan is not None and variant is not None:
            plan.variants.append(variant)
        self.errors.extend(RowError(line, message) for message in errors)

    def _start_product(
        self, line: int, handle: str, row: dict[str, str], errors: list[str]
    ) -> ProductPlan:
        existing = self.existing.get(handle)
        fields: dict[str, object] = {}
        title = row.get("title", "").strip()
        if title:
            fields["title"] = title
        elif existing is None:
            errors.append("title is required for a new product.")
        for name in TEXT_FIELDS:
            if name in self.columns:
                # Descriptions keep their own spacing; a blank cell clears the field.
                value = row[name] if name == "description" else row[name].strip()
                fields[name] = value if value.strip() else ""
        for name in ("title", *TEXT_FIELDS):
            limit = _max_length(Product, name)
            if limit and len(str(fields.get(name, ""))) > limit:
                errors.append(f"{name} is longer than {limit} characters.")
        status = row.get("status", "").strip().lower()
        if status and status not in Product.Status.values:
            errors.append(f"status {status!r} is not one of {', '.join(Product.Status.values)}.")
        elif status:
            fields["status"] = status
        if "category" in self.columns:
            slug = row["category"].strip()
            fields["category_id"] = self.categories.get(slug) if slug else None
            if slug and slug not in self.categories:
                errors.append(f"category {slug!r} does not exist.")
        tags = _split_tags(row["tags"]) if "tags" in self.columns else None
        for tag in tags or ():
            if len(tag) > _max_length(Tag, "name"):
                errors.append(f"tag {tag!r} is longer than {_max_length(Tag, 'name')} characters.")
        count = len(errors)
        names = self._option_names(row, errors)
        if existing is not None:
            missing = [o.name for o in existing.options.all() if o.name not in names]
            if missing:
                errors.append(
                    f"the product has options the file does not name: {', '.join(missing)}."
                )
        if len(errors) > count:
            # Option values cannot be checked against broken names; one error is enough.
            self.bad_options.add(handle)
        plan = ProductPlan(handle=handle, line=line, fields=fields, tags=tags, option_names=names)
        self.products[handle] = plan
        self.first_rows[handle] = row
        self.combos[handle] = self._existing_combos(existing, names) if existing else {}
        return plan

    def _option_names(self, row: dict[str, str], errors: list[str]) -> tuple[str, ...]:
        cells = [row.get(f"option{slot}_name", "").strip() for slot in range(1, OPTION_SLOTS + 1)]
        while cells and not cells[-1]:
            cells.pop()
        if "" in cells:
            errors.append("option names must fill option1_name, option2_name, ... without gaps.")
        if len({name.lower() for name in cells}) != len(cells):
            errors.append(f"option names repeat: {', '.join(cells)}.")
        for name in cells:
            if len(name) > _max_length(ProductOption, "name"):
                errors.append(f"option name {name!r} is too long.")
        return tuple(cells)

    def _existing_combos(self, product: Product, names: tuple[str, ...]) -> dict:
        """Option values of the product's variants that the file leaves alone, by combination."""
        option_names = {option.pk: option.name for option in product.options.all()}
        combos = {}
        for variant in product.variants.all():
            if variant.sku.lower() not in self.file_skus:
                values = {
                    option_names.get(v.option_id): v.value for v in variant.option_values.all()
                }
                combo = tuple(values.get(name, "").lower() for name in names)
                combos[combo] = f"variant {variant.sku}, which the file leaves alone"
        return combos

    def _check_agrees(self, row: dict[str, str], plan: ProductPlan, errors: list[str]) -> None:
        """A later row of a product may leave product cells blank, or repeat the first row's."""
        first = self.first_rows[plan.handle]
        for name in PRODUCT_COLUMNS:
            if name not in self.columns or not row[name].strip():
                continue
            if _normal(name, row[name]) != _normal(name, first[name]):
                errors.append(
                    f"{name} {row[name].strip()!r} differs from line {plan.line}, "
                    "the product's first row."
                )
        for slot in range(OPTION_SLOTS):
            name = row.get(f"option{slot + 1}_name", "").strip()
            expected = plan.option_names[slot] if slot < len(plan.option_names) else ""
            if name and name != expected:
                errors.append(
                    f"option{slot + 1}_name {name!r} differs from line {plan.line} "
                    f"({expected!r}); a product's rows share their option names."
                )

    def _variant(
        self, line: int, row: dict[str, str], plan: ProductPlan | None, errors: list[str]
    ) -> VariantPlan | None:
        count = len(errors)
        existing = self.existing.get(plan.handle) if plan else None
        currency = existing.currency if existing else settings.STORE_CURRENCY
        sku = row["sku"].strip()
        if not sku:
            errors.append("sku is required.")
        elif len(sku) > _max_length(Variant, "sku"):
            errors.append(f"sku is longer than {_max_length(Variant, 'sku')} characters.")
        elif sku.lower() in self.sku_lines:
            errors.append(f"SKU {sku} is also on line {self.sku_lines[sku.lower()]}.")
        else:
            self.sku_lines[sku.lower()] = line
            owner = self.sku_owners.get(sku.lower())
            if plan and owner and owner.product.slug != plan.handle:
                errors.append(f"SKU {sku} belongs to another product, {owner.product.slug}.")
        fields: dict[str, object] = {}
        if not row["price"].strip():
            errors.append("price is required.")
        for name in ("price", "compare_at_price", "cost"):
            if name in self.columns:
                fields[name] = _amount(name, row[name], currency, errors)
        price, compare = fields.get("price"), fields.get("compare_at_price")
        owner = self.sku_owners.get(sku.lower()) if sku else None
        if "compare_at_price" not in self.columns and owner and plan:
            # The stored compare-at price stays, so it must still be above the new price.
            compare = owner.compare_at_price if owner.product.slug == plan.handle else None
        if price is not None and compare is not None and compare <= price:
            errors.append(f"compare_at_price {compare} must be above the price {price}.")
        if "barcode" in self.columns:
            fields["barcode"] = row["barcode"].strip()
            if len(fields["barcode"]) > _max_length(Variant, "barcode"):
                errors.append("barcode is too long.")
        if "weight_grams" in self.columns:
            raw = row["weight_grams"].strip()
            whole = re.fullmatch(r"[0-9]+", raw) is not None
            if raw and (not whole or int(raw) > MAX_WEIGHT):
                errors.append(f"weight_grams {raw!r} is not a whole number of grams (0 or more).")
            fields["weight_grams"] = int(raw) if whole else 0
        if "track_inventory" in self.columns:
            raw = row["track_inventory"].strip().lower()
            if raw and raw not in BOOLEANS:
                errors.append(f"track_inventory {raw!r} is not true or false.")
            fields["track_inventory"] = BOOLEANS.get(raw, True)
        values = ()
        if plan and plan.handle not in self.bad_options:
            values = self._option_values(line, row, plan, errors)
        if len(errors) > count or plan is None:
            return None
        return VariantPlan(line=line, sku=sku, option_values=values, fields=fields)

    def _option_values(
        self, line: int, row: dict[str, str], plan: ProductPlan, errors: list[str]
    ) -> tuple[str, ...]:
        count = len(errors)
        values = []
        for slot in range(OPTION_SLOTS):
            value = row.get(f"option{slot + 1}_value", "").strip()
            if slot >= len(plan.option_names):
                if value:
                    errors.append(f"option{slot + 1}_value {value!r} has no option name.")
                continue
            name = plan.option_names[slot]
            if not value:
                errors.append(f"option{slot + 1}_value is required: the product has option {name}.")
            elif len(value) > _max_length(OptionValue, "value"):
                errors.append(f"{name} value {value!r} is too long.")
            else:
                # option_set refuses values that differ only in case ("M" and "m").
                spelling, first = self.spellings.setdefault(
                    (plan.handle, slot, value.lower()), (value, line)
                )
                if spelling != value:
                    errors.append(f"{name} {value!r} is spelled {spelling!r} on line {first}.")
            values.append(value)
        if len(errors) == count:
            combo = tuple(value.lower() for value in values)
            taken = self.combos[plan.handle].setdefault(combo, f"line {line}")
            if taken != f"line {line}":
                shown = " / ".join(values) or "no options"
                errors.append(
                    f"option values ({shown}) repeat {taken}; each variant of a product "
                    "needs its own combination."
                )
        return tuple(values)


def _slug_error(handle: str) -> str | None:
    if len(handle) > _max_length(Product, "slug"):
        return f"is longer than {_max_length(Product, 'slug')} characters."
    try:
        validate_slug(handle)
    except ValidationError:
        return "is not a valid handle: use letters, numbers, hyphens and underscores."
    return None


def _normal(column: str, value: str) -> object:
    if column == "tags":
        return frozenset(name.lower() for name in _split_tags(value))
    if column == "status":
        return value.strip().lower()
    return value.strip()


def _amount(name: str, raw: str, currency: str, errors: list[str]) -> Decimal | None:
    if not raw.strip():
        return None
    try:
        amount = money_parse(raw, currency)
    except ValueError as err:
        errors.append(f"{name}: {err}")
        return None
    if amount > MAX_AMOUNT:
        errors.append(f"{name} {raw.strip()} is too large.")
        return None
    return amount


def _chunks(items: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(items)
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _products_by_slug(slugs: Iterable[str]) -> dict[str, Product]:
    """Products with their tags, options, values and variants, prefetched per batch."""
    found = {}
    for chunk in _chunks(slugs):
        products = Product.objects.filter(slug__in=chunk).prefetch_related(
            "tags", "options__values", "variants__option_values"
        )
        found.update((product.slug, product) for product in products)
    return found


def _variants_by_sku(skus: Iterable[str]) -> dict[str, Variant]:
    """Variants by lower-cased SKU: variant_save treats SKUs case-insensitively."""
    found = {}
    for chunk in _chunks(skus):
        variants = (
            Variant.objects.annotate(lower_sku=Lower("sku"))
            # Lower() is ASCII-only on SQLite; the exact match covers other SKUs there.
            .filter(Q(lower_sku__in=[sku.lower() for sku in chunk]) | Q(sku__in=chunk))
            .select_related("product")
        )
        found.update((variant.sku.lower(), variant) for variant in variants)
    return found


# --- Importing -------------------------------------------------------------------------------


@transaction.atomic
def products_import(
    *,
    plan: ImportPlan,
    actor: object | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Write a checked plan: products by handle, options, variants by SKU, tags by name.

    Refuses a plan with errors. Rows equal to what is stored write nothing, so importing
    the same file twice changes nothing the second time.
    """
    if plan.errors:
        raise CsvImportError(plan.errors)
    result = ImportResult()
    # Fetched again inside the transaction: the database may have moved since parsing.
    existing = _products_by_slug(product.handle for product in plan.products)
    tags = _tags_get_or_create(
        (name for product in plan.products for name in product.tags or ()), result
    )
    done, total = 0, plan.variant_count
    for item in plan.products:
        product = existing.get(item.handle)
        tag_list = [tags[name.lower()] for name in item.tags] if item.tags is not None else None
        if product is None:
            extra = {} if tag_list is None else {"tags": tag_list}
            product = product_create(
                slug=item.handle, currency=settings.STORE_CURRENCY, **item.fields, **extra
            )
            changed = _options_write(product, item, new=True)
            variants: dict[str, Variant] = {}
        else:
            changed = _product_write(product, item, tag_list)
            changed = _options_write(product, item, new=False) or changed
            variants = {variant.sku.lower(): variant for variant in product.variants.all()}
        values = _option_values_by_slot(product, item)
        position = max((variant.position for variant in variants.values()), default=-1) + 1
        moved = False
        for row in item.variants:
            variant = variants.get(row.sku.lower())
            chosen = [values[(slot, value)] for slot, value in enumerate(row.option_values)]
            if variant is None:
                variant = Variant(
                    product=product,
                    sku=row.sku,
                    currency=product.currency,
                    position=position,
                    **row.fields,
                )
                position += 1
                variant_save(variant=variant, option_values=chosen, actor=actor)
                result.variants_created += 1
            elif updated := _variant_write(variant, row, chosen, actor):
                result.variants_updated += 1
                moved = moved or updated == "moved"
            else:
                result.variants_unchanged += 1
            done += 1
            if progress and (done % PROGRESS_EVERY == 0 or done == total):
                progress(done, total)
        if moved:
            # A value the variants moved off was still in use when the options were set;
            # setting them again drops it, so the next import of this file finds nothing to do.
            for slot, name in enumerate(item.option_names):
                option_set(
                    product=product, name=name, values=item.option_values_of(slot), position=slot
                )
        status = item.fields.get("status")
        if item.handle in existing and status and status != product.status:
            # After the variants: publishing needs one, and this sets published_at.
            products_set_status(products=[product], status=status)
            changed = True
        if item.handle not in existing:
            result.products_created += 1
        elif changed:
            result.products_updated += 1
        else:
            result.products_unchanged += 1
    return result


def _product_write(product: Product, item: ProductPlan, tags: list[Tag] | None) -> bool:
    changes = {
        name: value
        for name, value in item.fields.items()
        if name != "status" and getattr(product, name) != value
    }
    if tags is not None and {t.pk for t in product.tags.all()} != {t.pk for t in tags}:
        changes["tags"] = tags
    if changes:
        product_update(product=product, **changes)
    return bool(changes)


def _options_write(product: Product, item: ProductPlan, *, new: bool) -> bool:
    current = {} if new else {option.name: option for option in product.options.all()}
    used = set()
    if not new:
        used = {v.pk for variant in product.variants.all() for v in variant.option_values.all()}
    wrote = False
    for slot, name in enumerate(item.option_names):
        values = item.option_values_of(slot)
        option = current.get(name)
        if option is None or not _option_is(option, slot, values, used):
            option_set(product=product, name=name, values=values, position=slot)
            wrote = True
    if wrote:
        # Drop the prefetched options so the fresh values are read below.
        getattr(product, "_prefetched_objects_cache", {}).pop("options", None)
    return wrote


def _option_is(option: ProductOption, position: int, values: list[str], used: set[int]) -> bool:
    """Whether option_set(values, position) would leave `option` as it is."""
    stored = {value.value: value for value in option.values.all()}
    if option.position != position:
        return False
    if any(value not in stored or stored[value].position != i for i, value in enumerate(values)):
        return False
    # option_set deletes the values it is not given unless a variant uses them.
    return all(value.pk in used for name, value in stored.items() if name not in values)


def _option_values_by_slot(
    product: Product, item: ProductPlan
) -> dict[tuple[int, str], OptionValue]:
    if not item.option_names:
        return {}
    # The prefetched options of an untouched product, else a fresh read of the written ones.
    options = {option.name: option for option in product.options.all()}
    return {
        (slot, value.value): value
        for slot, name in enumerate(item.option_names)
        for value in options[name].values.all()
    }


def _variant_write(
    variant: Variant, row: VariantPlan, values: list[OptionValue], actor: object | None
) -> str | None:
    """Save the row's changes to `variant`: None if there are none, "moved" if its options."""
    changes = {name: value for name, value in row.fields.items() if getattr(variant, name) != value}
    if variant.sku != row.sku:
        changes["sku"] = row.sku
    values_changed = {v.pk for v in variant.option_values.all()} != {v.pk for v in values}
    if not changes and not values_changed:
        return None
    for name, value in changes.items():
        setattr(variant, name, value)
    if values_changed:
        variant.title = ""  # variant_save names it after its new option values
    variant_save(variant=variant, option_values=values if values_changed else None, actor=actor)
    return "moved" if values_changed else "changed"


def _tags_get_or_create(names: Iterable[str], result: ImportResult) -> dict[str, Tag]:
    """Tags by lower-cased name; a name is matched case-insensitively, like the constraint."""
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(name.lower(), name)
    found = {}
    for chunk in _chunks(wanted):
        spellings = [wanted[key] for key in chunk]
        tags = Tag.objects.annotate(lower_name=Lower("name")).filter(
            Q(lower_name__in=chunk) | Q(name__in=spellings)
        )
        found.update((tag.name.lower(), tag) for tag in tags)
    for key, name in wanted.items():
        if key not in found:
            found[key] = tag_get_or_create(name=name)
            result.tags_created += 1
    return found


# --- Exporting -------------------------------------------------------------------------------


def products_csv_export(*, queryset: QuerySet[Product] | None = None) -> Iterator[str]:
    """The products as CSV records, header first, in the columns the import reads.

    A fixed number of queries per batch of products. Products without variants have no
    row to be on and are left out. Raises CatalogError before the header for a product
    with more options than the file has columns for.
    """
    products = queryset if queryset is not None else Product.objects.order_by("slug")
    crowded = list(
        Product.objects.filter(pk__in=products.values("pk"))
        .annotate(option_count=Count("options"))
        .filter(option_count__gt=OPTION_SLOTS)
        .values_list("slug", flat=True)[:10]
    )
    if crowded:
        raise CatalogError(
            f"A CSV row holds {OPTION_SLOTS} options; these products have more: "
            f"{', '.join(crowded)}."
        )
    products = products.select_related("category").prefetch_related(
        "tags", "options", "variants__option_values"
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def record(cells: Iterable[object]) -> str:
        writer.writerow([defuse(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield record(COLUMNS)
    for product in products.iterator(chunk_size=BATCH):
        first = {
            "title": product.title,
            "description": product.description,
            "vendor": product.vendor,
            "product_type": product.product_type,
            "status": product.status,
            "category": product.category.slug if product.category else "",
            "tags": ", ".join(tag.name for tag in product.tags.all()),
            "seo_title": product.seo_title,
            "seo_description": product.seo_description,
        }
        options = list(product.options.all())
        for index, variant in enumerate(product.variants.all()):
            by_option = {value.option_id: value.value for value in variant.option_values.all()}
            cells: dict[str, object] = dict(first) if index == 0 else {}
            for slot, option in enumerate(options, start=1):
                cells[f"option{slot}_name"] = option.name
                cells[f"option{slot}_value"] = by_option.get(option.pk, "")
            cells.update(
                handle=product.slug,
                sku=variant.sku,
                barcode=variant.barcode,
                price=variant.price,
                compare_at_price=_blank_if_none(variant.compare_at_price),
                cost=_blank_if_none(variant.cost),
                weight_grams=variant.weight_grams,
                track_inventory="true" if variant.track_inventory else "false",
            )
            yield record(cells.get(column, "") for column in COLUMNS)


def _blank_if_none(value: object) -> object:
    return "" if value is None else value
