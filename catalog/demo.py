"""Demo catalog: a category tree, products with options and variants, two featured
collections. Idempotent: what exists (by slug) is left alone."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from decimal import Decimal

from catalog.images import product_image_add
from catalog.models import Category, Collection, Product, Variant
from catalog.search import search_words_refresh
from catalog.services import (
    category_save,
    option_set,
    product_create,
    products_set_status,
    variant_save,
)
from config.money import money_round

TREE = {
    "Kitchen": ["Cookware", "Tableware"],
    "Living": ["Lighting", "Textiles"],
    "Outdoor": ["Camping", "Garden"],
}

# (title, category, vendor, base price, options {name: values}, description)
PRODUCTS = [
    (
        "Cast Iron Skillet",
        "cookware",
        "Forge & Field",
        "39.00",
        {"Size": ["20 cm", "26 cm", "30 cm"]},
        "Pre-seasoned cast iron that goes from hob to oven to campfire and lasts a lifetime.",
    ),
    (
        "Enamel Dutch Oven",
        "cookware",
        "Forge & Field",
        "89.00",
        {"Colour": ["Sage", "Clay", "Ink"]},
        "A heavy enamelled pot for slow braises, sourdough and soups.",
    ),
    (
        "Carbon Steel Wok",
        "cookware",
        "Forge & Field",
        "45.00",
        {},
        "Light, fast and naturally non-stick once seasoned.",
    ),
    (
        "Stoneware Dinner Plate",
        "tableware",
        "Hearth Studio",
        "14.50",
        {"Colour": ["Oat", "Slate"]},
        "Hand-glazed stoneware plate, dishwasher safe.",
    ),
    (
        "Linen Napkins, Set of 4",
        "tableware",
        "Hearth Studio",
        "24.00",
        {"Colour": ["Natural", "Rust", "Olive"]},
        "Stonewashed European linen that softens with every wash.",
    ),
    (
        "Glass Carafe",
        "tableware",
        "Clearwater",
        "19.00",
        {},
        "Mouth-blown borosilicate glass carafe, one litre.",
    ),
    (
        "Brass Table Lamp",
        "lighting",
        "Lumen Works",
        "129.00",
        {"Shade": ["Linen", "Opal glass"]},
        "A solid brass lamp with a warm, dimmable LED bulb.",
    ),
    (
        "Paper Pendant Shade",
        "lighting",
        "Lumen Works",
        "34.00",
        {"Size": ["40 cm", "60 cm"]},
        "Washi paper pendant for soft, even light.",
    ),
    (
        "Wool Throw Blanket",
        "textiles",
        "Highland Loom",
        "79.00",
        {"Colour": ["Heather", "Charcoal", "Moss"]},
        "Lambswool throw woven in the Scottish Borders.",
    ),
    (
        "Linen Duvet Cover",
        "textiles",
        "Highland Loom",
        "119.00",
        {"Size": ["Single", "Double", "King"], "Colour": ["White", "Sand"]},
        "Breathable linen bedding for every season.",
    ),
    (
        "Waffle Bath Towel",
        "textiles",
        "Highland Loom",
        "29.00",
        {"Colour": ["White", "Stone", "Ink"]},
        "Quick-drying cotton waffle towel.",
    ),
    (
        "Ultralight Tent",
        "camping",
        "Ridgeline",
        "249.00",
        {"Capacity": ["1 person", "2 person"]},
        "A freestanding tent under 1.2 kg for fast trips.",
    ),
    (
        "Down Sleeping Bag",
        "camping",
        "Ridgeline",
        "189.00",
        {"Length": ["Regular", "Long"]},
        "Responsibly sourced down, comfortable to -5 °C.",
    ),
    (
        "Enamel Camp Mug",
        "camping",
        "Ridgeline",
        "12.00",
        {"Colour": ["Red", "Blue", "Cream"]},
        "The classic speckled camp mug.",
    ),
    (
        "Stainless Water Bottle",
        "camping",
        "Clearwater",
        "22.00",
        {"Size": ["500 ml", "750 ml"]},
        "Double-walled, keeps drinks cold for 24 hours.",
    ),
    (
        "Pruning Shears",
        "garden",
        "Greenhand",
        "27.00",
        {},
        "Forged bypass pruners with a replaceable blade.",
    ),
    (
        "Canvas Garden Apron",
        "garden",
        "Greenhand",
        "32.00",
        {"Colour": ["Khaki", "Navy"]},
        "Waxed canvas apron with deep tool pockets.",
    ),
    (
        "Terracotta Planter",
        "garden",
        "Greenhand",
        "18.00",
        {"Size": ["Small", "Medium", "Large"]},
        "Unglazed terracotta that lets roots breathe.",
    ),
]


SIZED = {"Size", "Capacity", "Length"}


def seed(*, log: Callable[[str], object]) -> None:
    categories = _seed_categories()
    rng = random.Random(3)  # noqa: S311 - demo prices, not secrets
    created = []
    for title, category, vendor, price, options, description in PRODUCTS:
        slug = title.lower().replace(",", "").replace(" ", "-")
        if Product.objects.filter(slug=slug).exists():
            continue
        product = product_create(
            title=title,
            slug=slug,
            category=categories[category],
            vendor=vendor,
            description=description,
        )
        _seed_variants(product, Decimal(price), options, rng)
        _seed_picture(product, category)
        created.append(product)
    products_set_status(products=created, status=Product.Status.ACTIVE)
    _seed_collections()
    search_words_refresh()
    log(f"catalog: {len(PRODUCTS)} products ({len(created)} new), {len(categories)} categories")


def _seed_categories() -> dict[str, Category]:
    found = {}
    for position, (parent_name, children) in enumerate(TREE.items()):
        parent = Category.objects.filter(slug=parent_name.lower()).first() or category_save(
            category=Category(name=parent_name, slug=parent_name.lower(), position=position)
        )
        found[parent.slug] = parent
        for child_position, name in enumerate(children):
            child = Category.objects.filter(slug=name.lower()).first() or category_save(
                category=Category(
                    name=name, slug=name.lower(), parent=parent, position=child_position
                )
            )
            found[child.slug] = child
    return found


def _seed_variants(product: Product, price: Decimal, options: dict, rng: random.Random) -> None:
    made = [
        option_set(product=product, name=name, values=values, position=index)
        for index, (name, values) in enumerate(options.items())
    ]
    combos: list[list] = [[]]
    for option in made:
        combos = [[*combo, value] for combo in combos for value in option.values.all()]
    prefix = "".join(word[0] for word in product.title.split())[:4].upper()
    for index, combo in enumerate(combos):
        # Bigger sizes cost more: 10 more per step of a size-like option.
        step = sum(
            (Decimal(10) * value.position for value in combo if value.option.name in SIZED),
            Decimal(0),
        )
        on_sale = rng.random() < 0.2
        variant = Variant(
            product=product,
            sku=f"{prefix}-{product.pk:03d}-{index + 1:02d}",
            price=price + step,
            compare_at_price=money_round((price + step) * Decimal("1.25")) if on_sale else None,
            cost=money_round((price + step) * Decimal("0.45")),
            weight_grams=rng.randint(150, 4000),
            position=index,
        )
        variant_save(variant=variant, option_values=combo)


# A colour per department, so the demo store reads at a glance.
PALETTE = {
    "cookware": ((63, 74, 68), (214, 160, 114)),
    "tableware": ((232, 223, 208), (160, 120, 88)),
    "lighting": ((31, 58, 52), (243, 201, 105)),
    "textiles": ((200, 186, 165), (112, 86, 70)),
    "camping": ((45, 77, 63), (222, 226, 210)),
    "garden": ((111, 134, 92), (240, 233, 214)),
}


def _seed_picture(product: Product, category: str) -> None:
    """A simple still life: the product's initial on a disc, in its department's colours."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw, ImageFont

    background, accent = PALETTE.get(category, ((230, 225, 215), (31, 77, 63)))
    picture = Image.new("RGB", (900, 900), background)
    draw = ImageDraw.Draw(picture)
    draw.ellipse((170, 170, 730, 730), fill=accent)
    font = ImageFont.load_default(size=300)
    draw.text((450, 465), product.title[0], fill=background, font=font, anchor="mm")
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    upload = SimpleUploadedFile(f"{product.slug}.jpg", buffer.getvalue(), "image/jpeg")
    product_image_add(product=product, upload=upload, alt=product.title)


def _seed_collections() -> None:
    if not Collection.objects.filter(slug="new-this-season").exists():
        collection = Collection.objects.create(
            title="New this season",
            slug="new-this-season",
            featured=True,
            position=0,
            description="Fresh arrivals for the kitchen, the home and the trail.",
        )
        collection.products.set(
            Product.objects.filter(
                slug__in=[
                    "enamel-dutch-oven",
                    "brass-table-lamp",
                    "wool-throw-blanket",
                    "ultralight-tent",
                ]
            )
        )
    if not Collection.objects.filter(slug="under-25").exists():
        Collection.objects.create(
            title="Gifts under €25",
            slug="under-25",
            featured=True,
            position=1,
            kind=Collection.Kind.RULES,
            rules=[{"field": "price", "op": "lt", "value": "25"}],
            description="Small things, well made.",
        )
