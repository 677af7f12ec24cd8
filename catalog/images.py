"""Product images: uploads checked by their content, cleaned, and rendered to WebP widths.

An upload is decoded by Pillow, never trusted by its name or content type, and stored
re-encoded from its pixels, so EXIF (camera serial, GPS position) never reaches the
storefront. The WebP renditions the storefront's `srcset` lists are made off the request
by `catalog.tasks.product_image_renditions_task`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from typing import IO
from uuid import uuid4

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from PIL import Image, ImageCms, ImageOps

from catalog.models import Product, ProductImage, Variant
from catalog.services import CatalogError

logger = logging.getLogger(__name__)

RENDITION_WIDTHS = (320, 640, 960, 1440)
RENDITION_QUALITY = 80
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Pillow format names. GIF keeps only its first frame (stored as PNG); MPO is how Pillow
# names the multi-picture JPEGs many phones write, and is a JPEG to everyone else.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
_FORMAT_ALIASES = {"MPO": "JPEG"}
_STORED_FORMAT = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "PNG"}
_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 90, "optimize": True, "progressive": True},
    "PNG": {},
    "WEBP": {"quality": 90, "method": 4},
}
ALT_MAX_LENGTH = ProductImage._meta.get_field("alt").max_length or 200
RENDITIONS_FOLDER = "products/renditions"

NOT_AN_IMAGE = "That file is not an image we can use (JPEG, PNG, WebP or GIF)."

# Pillow's decoders raise a zoo of types on hostile or damaged input; to the merchant
# every one of them means the same thing: not an image we can use.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,  # Pillow's "not a PNG/GIF file" and broken chunk structure
    ValueError,  # over-large PNG text chunks, bad EXIF
    EOFError,
    IndexError,
    TypeError,
    MemoryError,
)


@dataclass(frozen=True)
class ValidatedImage:
    """An upload decoded, checked and re-encoded without metadata."""

    content: bytes
    format: str  # the stored format: JPEG, PNG or WEBP
    width: int
    height: int

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self.format]


def _too_many_bytes() -> str:
    return f"The image is larger than {MAX_UPLOAD_BYTES / (1024 * 1024):g} MB."


def _too_many_pixels() -> str:
    return f"The image is too large: at most {MAX_PIXELS / 1_000_000:g} megapixels."


# --- Validation ------------------------------------------------------------------------------


def image_validate(upload: File | IO[bytes]) -> ValidatedImage:
    """Decode `upload` by its content and return it re-encoded, upright, without EXIF.

    Pure: touches neither the database nor storage. Raises CatalogError with a message
    for the merchant when the file is too big, not a JPEG/PNG/WebP/GIF, damaged, or has
    more pixels than we are willing to decode.
    """
    # Cheap refusals first: the declared size, then a bounded read, before any decoding.
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > MAX_UPLOAD_BYTES:
        raise CatalogError(_too_many_bytes())
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise CatalogError(_too_many_bytes())
    if not data:
        raise CatalogError(NOT_AN_IMAGE)

    # Pillow warns (rather than raises) between MAX_IMAGE_PIXELS and twice that; here a
    # possible decompression bomb is a refusal, never a log line.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _decode_and_clean(data)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            # Pillow's own limit (about 89 megapixels) sits above ours, so to the merchant
            # a bomb is simply a picture with too many pixels.
            raise CatalogError(_too_many_pixels()) from err
        except _DECODE_ERRORS as err:
            raise CatalogError(NOT_AN_IMAGE) from err


def _decode_and_clean(data: bytes) -> ValidatedImage:
    # `formats` keeps every other decoder (TIFF, BMP, PSD, ...) from even parsing the header.
    with Image.open(BytesIO(data), formats=ALLOWED_FORMATS) as probe:
        source_format = _FORMAT_ALIASES.get(probe.format or "", probe.format)
        if source_format not in ALLOWED_FORMATS:
            raise CatalogError(NOT_AN_IMAGE)
        # open() has read only the header: refuse before a single pixel is decoded.
        width, height = probe.size
        if width < 1 or height < 1:
            raise CatalogError(NOT_AN_IMAGE)
        if width * height > MAX_PIXELS:
            raise CatalogError(_too_many_pixels())
        probe.verify()

    # verify() leaves the image unusable, so decode from a fresh open.
    with Image.open(BytesIO(data), formats=ALLOWED_FORMATS) as image:
        image.load()  # the first frame only, for a GIF or an animated PNG/WebP
        icc_profile = image.info.get("icc_profile") or None
        upright = ImageOps.exif_transpose(image)
    cleaned, icc_profile = _web_mode(upright, icc_profile)

    stored_format = _STORED_FORMAT[source_format]
    # A fresh info dict: the encoders pick comments, transparency and profiles from it.
    cleaned.info = {}
    options = dict(_SAVE_OPTIONS[stored_format])
    if icc_profile:
        # The colour profile is not personal data, and without it wide-gamut photos
        # (Display P3 from phones) look washed out.
        options["icc_profile"] = icc_profile
    out = BytesIO()
    cleaned.save(out, stored_format, **options)
    return ValidatedImage(
        content=out.getvalue(),
        format=stored_format,
        width=cleaned.width,
        height=cleaned.height,
    )


def _web_mode(image: Image.Image, icc_profile: bytes | None) -> tuple[Image.Image, bytes | None]:
    """Return `image` in L, RGB or RGBA, the modes every browser and WebP understand."""
    mode = image.mode
    if mode == "CMYK":
        # Browsers render CMYK JPEGs poorly or not at all. The CMYK profile does not
        # describe the RGB result, so it is used for the conversion and then dropped.
        return _cmyk_to_rgb(image, icc_profile), None
    if mode.startswith("I"):
        # 16-bit greyscale PNG: a plain convert would clip everything above 255 to white.
        return image.convert("I").point(lambda value: value / 256).convert("L"), icc_profile
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        return (image if mode == "RGBA" else image.convert("RGBA")), icc_profile
    if mode in ("L", "RGB"):
        return image, icc_profile
    if mode == "1":
        return image.convert("L"), icc_profile
    return image.convert("RGB"), icc_profile


def _cmyk_to_rgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            converted = ImageCms.profileToProfile(image, source, srgb, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: the naive conversion below is still a usable picture
        else:
            if converted is not None:
                return converted
    return image.convert("RGB")


# --- Services --------------------------------------------------------------------------------


def product_image_add(
    *,
    product: Product,
    upload: File | IO[bytes],
    alt: str = "",
    variant: Variant | None = None,
) -> ProductImage:
    """Validate `upload`, store it cleaned as the product's last image, queue its renditions.

    The first image becomes the cover. A refused file raises CatalogError and leaves no
    row and no file behind.
    """
    alt = alt.strip()
    if len(alt) > ALT_MAX_LENGTH:
        raise CatalogError(f"The alt text is at most {ALT_MAX_LENGTH} characters.")
    if variant is not None and variant.product_id != product.pk:
        raise CatalogError("That variant belongs to another product.")
    # Decoding is the slow part: do it before the transaction, so no lock waits on Pillow.
    cleaned = image_validate(upload)

    # The task module imports this one, so it is imported when first needed.
    from catalog.tasks import product_image_renditions_task

    with transaction.atomic():
        # The product row lock serializes concurrent uploads, so no two share a position.
        locked = Product.objects.select_for_update().only("pk", "cover_image").get(pk=product.pk)
        last = locked.images.aggregate(last=Max("position"))["last"]
        image = ProductImage(
            product=product,
            variant=variant,
            alt=alt,
            position=0 if last is None else last + 1,
        )
        image.image.save(
            f"{uuid4().hex}{cleaned.extension}", ContentFile(cleaned.content), save=False
        )
        stored_name = image.image.name
        try:
            image.width, image.height = cleaned.width, cleaned.height
            image.save()
            now = timezone.now()
            changes: dict[str, object] = {"updated_at": now}
            if locked.cover_image_id is None:
                changes["cover_image"] = image
                product.cover_image = image
            Product.objects.filter(pk=product.pk).update(**changes)
            product.updated_at = now
        except BaseException:
            # The row rolls back with the transaction; the file would not.
            image.image.storage.delete(stored_name)
            raise
        image_id = image.pk
        transaction.on_commit(lambda: product_image_renditions_task.delay(image_id))
    return image


def product_image_remove(*, image: ProductImage) -> None:
    """Delete `image`, its file and renditions; the next image by position becomes the cover.

    Removing an image that is already gone does nothing, so a double click is harmless.
    """
    with transaction.atomic():
        # Same lock order as product_image_add: the product, then its images.
        product = (
            Product.objects.select_for_update().only("pk", "cover_image").get(pk=image.product_id)
        )
        row = ProductImage.objects.filter(pk=image.pk).first()
        if row is None:
            return
        # The deterministic rendition names too: a rendition task may have written files
        # whose map never reached this row.
        names = {
            row.image.name,
            *row.renditions.values(),
            *(_rendition_name(row.pk, width) for width in rendition_widths(row.width)),
        }
        removed_pk = row.pk  # delete() sets the instance's pk to None
        row.delete()  # Product.cover_image is SET_NULL, so a removed cover is cleared here
        changes: dict[str, object] = {"updated_at": timezone.now()}  # refreshes cached pages
        if product.cover_image_id == removed_pk:
            changes["cover_image"] = product.images.order_by("position", "pk").first()
        Product.objects.filter(pk=product.pk).update(**changes)
        # Files go only once the delete is committed; a failure there is logged, not raised,
        # because the image is already gone for the shopper.
        transaction.on_commit(partial(_storage_delete, sorted(filter(None, names))), robust=True)


@transaction.atomic
def product_images_reorder(*, product: Product, image_ids: list[int]) -> list[ProductImage]:
    """Put the product's images in the order of `image_ids`; the first becomes the cover.

    `image_ids` must name every image of the product exactly once.
    """
    locked = Product.objects.select_for_update().only("pk", "cover_image").get(pk=product.pk)
    images = {image.pk: image for image in locked.images.all()}
    try:
        ordered_ids = [int(pk) for pk in image_ids]
    except (TypeError, ValueError) as err:
        raise CatalogError("The new order names images that are not this product's.") from err
    if len(ordered_ids) != len(images) or set(ordered_ids) != set(images):
        raise CatalogError("The new order must list each of this product's images exactly once.")
    ordered = [images[pk] for pk in ordered_ids]
    for position, image in enumerate(ordered):
        image.position = position
    ProductImage.objects.bulk_update(ordered, ["position"])
    cover = ordered[0] if ordered else None
    Product.objects.filter(pk=product.pk).update(cover_image=cover, updated_at=timezone.now())
    product.cover_image = cover
    return ordered


def product_image_renditions_make(*, image_id: int) -> dict[str, str]:
    """Write the WebP renditions of image `image_id` and record them; returns the map.

    Idempotent: names are deterministic, a complete map is left alone, and a rerun after
    a crash rewrites the same files. An image deleted meanwhile yields {}.
    """
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None:
        return {}
    storage = default_storage
    expected = {
        str(width): _rendition_name(image.pk, width) for width in rendition_widths(image.width)
    }
    # The map is written only after every file, so a complete map means complete files.
    if image.renditions == expected and all(storage.exists(name) for name in expected.values()):
        return expected

    with image.image.open("rb") as stored:
        data = stored.read()
    # No transaction is open while Pillow works: resizing a big photo takes seconds.
    with Image.open(BytesIO(data), formats=("JPEG", "PNG", "WEBP")) as original:
        original.load()
        icc_profile = original.info.get("icc_profile") or None
        has_alpha = original.mode in ("RGBA", "LA") or "transparency" in original.info
        # WebP takes RGB or RGBA only; greyscale originals are widened here.
        source = original.convert("RGBA" if has_alpha else "RGB")
    renditions = {
        str(width): _rendition_name(image.pk, width) for width in rendition_widths(source.width)
    }
    for key, name in renditions.items():
        _rendition_write(source, width=int(key), name=name, icc_profile=icc_profile)

    with transaction.atomic():
        updated = ProductImage.objects.filter(pk=image.pk).update(renditions=renditions)
        # Cached product pages are keyed on updated_at: let them pick up the srcset.
        Product.objects.filter(pk=image.product_id).update(updated_at=timezone.now())
    if not updated:
        # Removed while we worked: its remove already ran, so clean up after ourselves.
        _storage_delete(renditions.values())
        return {}
    return renditions


def rendition_widths(width: int) -> list[int]:
    """The widths to render for an original `width` pixels wide, never upscaling.

    Each standard width below the original, plus the original's own width when it is
    smaller than the largest standard width, so the sharpest version is always there.
    """
    if width < 1:
        return []
    widths = [standard for standard in RENDITION_WIDTHS if standard < width]
    if width < max(RENDITION_WIDTHS):
        widths.append(width)
    return widths


def _rendition_name(image_id: int, width: int) -> str:
    return f"{RENDITIONS_FOLDER}/{image_id}-{width}.webp"


def _rendition_write(
    source: Image.Image, *, width: int, name: str, icc_profile: bytes | None
) -> None:
    if width == source.width:
        frame = source
    else:
        height = max(1, round(source.height * width / source.width))
        # reducing_gap: a fast box pre-shrink, then Lanczos; indistinguishable, much faster.
        frame = source.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = BytesIO()
    options: dict[str, object] = {"quality": RENDITION_QUALITY, "method": 4}
    if icc_profile:
        options["icc_profile"] = icc_profile
    frame.save(out, "WEBP", **options)
    storage = default_storage
    # Storage would otherwise save beside an existing file under a suffixed name.
    storage.delete(name)
    saved = storage.save(name, ContentFile(out.getvalue()))
    if saved != name:
        # A concurrent run wrote `name` between our delete and save; its bytes are the same.
        storage.delete(saved)


def _storage_delete(names: Iterable[str]) -> None:
    storage = default_storage
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            # An orphan file costs disk, not correctness; say so and carry on.
            logger.warning("Could not delete image file %s", name, exc_info=True)


# --- Templates -------------------------------------------------------------------------------


def image_srcset(image: ProductImage) -> str:
    """The `srcset` value for `image`: "url 320w, url 640w, ...", or the original's url."""
    if image.renditions:
        by_width = sorted((int(width), name) for width, name in image.renditions.items())
        return ", ".join(f"{default_storage.url(name)} {width}w" for width, name in by_width)
    if not image.image:
        return ""
    # Until the renditions exist, the original stands in for all of them.
    return f"{image.image.url} {image.width}w" if image.width else image.image.url
