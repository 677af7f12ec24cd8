"""Writes to the category tree and collections: `<entity>_<verb>(*, ...)`, each in its own
transaction; and the reads the taxonomy pages and forms share.

Category create/update stays in `catalog.services.category_save`, the only keeper of the
materialized paths; this module adds what the dashboard pages need beside it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Q

from catalog.models import Category, Collection, Product
from catalog.selectors import collection_filter
from catalog.services import CatalogError, unique_slug

RULE_FIELDS = {"tag": "Tag", "vendor": "Vendor", "type": "Product type", "price": "Price"}
RULE_OPS = {"eq": "is", "lt": "is less than", "gt": "is greater than"}
# What collection_filter understands: a rule outside this table would match nothing.
RULE_OPS_FOR_FIELD = {"tag": {"eq"}, "vendor": {"eq"}, "type": {"eq"}, "price": {"lt", "gt"}}
RULE_VALUE_MAX = 120
# The dashboard lists at most this many collections (each rule collection costs a COUNT).
COLLECTION_LIST_CAP = 200
PICKER_RESULTS = 20


# --- Categories ------------------------------------------------------------------------------


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Delete an empty leaf category.

    Refuses one with subcategories (the tree would lose a branch) or with products
    (Product.category is SET NULL: they would silently drop out of every listing).
    The row lock makes the check hold until commit: on PostgreSQL a concurrent insert or
    update pointing a product or child at this row waits on it, then fails its foreign key.
    """
    locked = Category.objects.select_for_update().filter(pk=category.pk).first()
    if locked is None:
        return  # already gone: deleting twice is not an error
    children = Category.objects.filter(parent=locked).count()
    if children:
        raise CatalogError(
            f"“{locked.name}” has {children} subcategor{'y' if children == 1 else 'ies'}: "
            "move or delete them first."
        )
    products = Product.objects.filter(category=locked).count()
    if products:
        raise CatalogError(
            f"“{locked.name}” holds {products} product{'' if products == 1 else 's'}: "
            "move them to another category first."
        )
    locked.delete()


# --- Collections -----------------------------------------------------------------------------


def rule_clean(rule: Mapping[str, object]) -> tuple[dict[str, str], dict[str, str]]:
    """Normalize one rule and say what is wrong with it, per key ("field", "op", "value").

    Shared by the form (errors beside each input) and collection_save (the last word), so
    the two cannot disagree about what collection_filter can run.
    """
    field = str(rule.get("field") or "")
    op = str(rule.get("op") or "")
    value = str(rule.get("value") or "").strip()
    errors: dict[str, str] = {}
    if not op and len(RULE_OPS_FOR_FIELD.get(field, ())) == 1:
        # Tag, vendor and type rules have one test only: a row need not spell it out.
        op = next(iter(RULE_OPS_FOR_FIELD[field]))
    if field not in RULE_FIELDS:
        errors["field"] = "Choose what the rule looks at: tag, vendor, product type or price."
    elif field == "price":
        if op not in RULE_OPS_FOR_FIELD["price"]:
            errors["op"] = "A price rule compares: choose “is less than” or “is greater than”."
        try:
            amount = Decimal(value.replace(",", "."))
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 or amount >= 10**10:
            errors["value"] = "Enter a price as a number, e.g. 25 or 19.90."
        else:
            value = str(amount)
    else:
        if op != "eq":
            errors["op"] = f"A {RULE_FIELDS[field].lower()} rule matches exactly: choose “is”."
        if not value:
            errors["value"] = f"Enter the {RULE_FIELDS[field].lower()} to match."
        elif len(value) > RULE_VALUE_MAX:
            errors["value"] = f"At most {RULE_VALUE_MAX} characters."
    return {"field": field, "op": op, "value": value}, errors


def collection_rules_clean(rules: Iterable[Mapping[str, object]]) -> list[dict[str, str]]:
    """The rules normalized, or CatalogError naming the first bad one."""
    cleaned = []
    for number, rule in enumerate(rules, start=1):
        normalized, errors = rule_clean(rule)
        if errors:
            raise CatalogError(f"Rule {number}: {next(iter(errors.values()))}")
        cleaned.append(normalized)
    return cleaned


@transaction.atomic
def collection_save(
    *, collection: Collection, products: Iterable[Product] | None = None
) -> Collection:
    """Create or update `collection`; `products` (when given) become its hand-picked list.

    Rules are checked whatever the kind, so switching a collection to rules later never
    runs a rule collection_filter cannot read; a rule collection needs at least one.
    Both halves are kept across a change of kind, so switching back loses nothing.
    """
    collection.title = collection.title.strip()
    if not collection.title:
        raise CatalogError("A collection needs a title.")
    collection.rules = collection_rules_clean(collection.rules or [])
    if collection.kind == Collection.Kind.RULES and not collection.rules:
        raise CatalogError("A collection by rules needs at least one rule.")
    if not collection.slug:
        collection.slug = unique_slug(
            Collection, collection.title, exclude_pk=collection.pk, max_length=130
        )
    elif Collection.objects.exclude(pk=collection.pk).filter(slug=collection.slug).exists():
        raise CatalogError(f"The address /collections/{collection.slug}/ is taken.")
    collection.save()
    if products is not None:
        collection.products.set(products)
    return collection


@transaction.atomic
def collection_delete(*, collection: Collection) -> None:
    """Delete a collection; its products stay, only the grouping goes."""
    Collection.objects.filter(pk=collection.pk).delete()


# --- Reads shared by the taxonomy views and forms ---------------------------------------------
# These belong in catalog/selectors.py; they live here while that file has another owner.


def category_tree(categories: Iterable[Category]) -> list[Category]:
    """`categories` (one query, ordered by path) in tree order, siblings by position and name.

    Sets `depth` and `child_count` on each node. A node whose parent is not in
    `categories` is left out with its subtree (the parent picker excludes a subtree so).
    """
    children: dict[int | None, list[Category]] = defaultdict(list)
    for node in categories:
        children[node.parent_id].append(node)
    ordered: list[Category] = []
    # An explicit stack rather than recursion: a deep tree must not hit the recursion limit.
    stack = [(node, 0) for node in reversed(_sorted(children[None]))]
    while stack:
        node, depth = stack.pop()
        node.depth = depth
        node.child_count = len(children[node.pk])
        ordered.append(node)
        stack.extend((child, depth + 1) for child in reversed(_sorted(children[node.pk])))
    return ordered


def _sorted(nodes: list[Category]) -> list[Category]:
    return sorted(nodes, key=lambda node: (node.position, node.name.lower(), node.pk))


def category_list_for_staff() -> list[Category]:
    """The whole tree with product counts, in one query whatever its size.

    `product_count` is the category's own products; `subtree_product_count` adds its
    descendants', summed in Python from the same rows.
    """
    nodes = category_tree(
        Category.objects.annotate(product_count=Count("products")).order_by("path")
    )
    by_id = {node.pk: node for node in nodes}
    for node in nodes:
        node.subtree_product_count = 0
    for node in nodes:
        for pk in [*node.ancestor_ids, node.pk]:
            if pk in by_id:
                by_id[pk].subtree_product_count += node.product_count
    return nodes


def rules_match_counts(*, rules: list[dict[str, str]], match: str) -> dict[str, int] | None:
    """How many products a rule set matches, all and active; None when a rule is unreadable."""
    try:
        condition = collection_filter(
            Collection(kind=Collection.Kind.RULES, rules=rules, match=match)
        )
    except (AttributeError, InvalidOperation, TypeError, ValueError):
        return None  # a rule stored before validation existed; the form shows what to fix
    return Product.objects.filter(condition).aggregate(
        total=Count("pk"), active=Count("pk", filter=Q(status=Product.Status.ACTIVE))
    )


def collection_list_for_staff() -> list[Collection]:
    """Collections for the dashboard, capped, each with `product_count`.

    Hand-picked counts come from one annotated query. A rule collection's products are
    a filter, not rows, so each costs one COUNT: acceptable only because a store has
    tens of collections, not thousands, and the list stops at COLLECTION_LIST_CAP.
    """
    collections = list(
        Collection.objects.annotate(picked_count=Count("products")).order_by(
            "position", "title", "pk"
        )[:COLLECTION_LIST_CAP]
    )
    for collection in collections:
        if collection.kind == Collection.Kind.MANUAL:
            collection.product_count = collection.picked_count
        else:
            counts = rules_match_counts(rules=collection.rules, match=collection.match)
            collection.product_count = counts["total"] if counts else None
    return collections


def product_search_for_picker(*, query: str, exclude_ids: Iterable[int]) -> list[Product]:
    """The collection picker's matches: products of any status whose title contains
    `query`, leaving out those already chosen; a short list, for a person to scan."""
    query = " ".join(query.split())[:100]
    if not query:
        return []
    return list(
        Product.objects.filter(title__icontains=query)
        .exclude(pk__in=list(exclude_ids))
        .order_by("title", "pk")[:PICKER_RESULTS]
    )
