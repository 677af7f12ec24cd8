from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def srcset(image: object) -> str:
    """The WebP renditions of a ProductImage as a srcset (the original until they exist)."""
    from catalog.images import image_srcset

    return image_srcset(image) if image else ""


@register.simple_tag(takes_context=True)
def product_jsonld(context: template.Context, product: object, variant: object) -> str:
    """schema.org Product data for search engines, as a JSON-LD data block.

    A data block is never executed, so the page's script-src CSP does not apply; <, > and
    & are escaped as in Django's json_script so text cannot close the element.
    """
    import json

    from django.conf import settings
    from django.urls import reverse
    from django.utils.html import format_html
    from django.utils.safestring import mark_safe

    url = settings.SITE_URL + reverse("catalog:product", args=[product.slug])
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.title,
        "description": product.seo_description or product.description[:500],
        "url": url,
    }
    if product.vendor:
        data["brand"] = {"@type": "Brand", "name": product.vendor}
    image = context.get("main_image")
    if image:
        data["image"] = [settings.SITE_URL + image.image.url]
    if variant:
        data["sku"] = variant.sku
        data["offers"] = {
            "@type": "Offer",
            "url": url,
            "price": str(variant.price),
            "priceCurrency": variant.currency,
            "availability": "https://schema.org/"
            + ("InStock" if variant.in_stock else "OutOfStock"),
        }
    text = json.dumps(data, ensure_ascii=False)
    text = text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308 - escaped above


MENU_CACHE_KEY = "catalog:menu"


@register.inclusion_tag("catalog/storefront/menu.html", takes_context=True)
def catalog_menu(context: template.Context) -> dict:
    """The top-level categories for the storefront header; cached, since every page shows
    it, and dropped by catalog.services.category_save whenever a category changes."""
    from django.core.cache import cache

    from catalog.selectors import category_menu

    request = context.get("request")
    return {
        "categories": cache.get_or_set(MENU_CACHE_KEY, category_menu, 600),
        "current": request.path if request else "",
    }
