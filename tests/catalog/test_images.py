"""Product images: content validation, EXIF stripping, renditions, order and cover."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from catalog import images
from catalog.images import (
    NOT_AN_IMAGE,
    image_srcset,
    image_validate,
    product_image_add,
    product_image_remove,
    product_image_renditions_make,
    product_images_reorder,
    rendition_widths,
)
from catalog.models import Product, ProductImage
from catalog.services import CatalogError
from catalog.tasks import product_image_renditions_task
from tests.factories.catalog import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

RED, BLUE = (220, 20, 20), (20, 20, 220)


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def halves(size: tuple[int, int] = (120, 80)) -> Image.Image:
    """Left half red, right half blue: shows which way up a stored picture is."""
    picture = Image.new("RGB", size, BLUE)
    picture.paste(RED, (0, 0, size[0] // 2, size[1]))
    return picture


def jpeg(size: tuple[int, int] = (120, 80)) -> bytes:
    return encode(halves(size), "JPEG", quality=90)


def camera_jpeg(size: tuple[int, int]) -> bytes:
    """A phone photo: sensor-oriented pixels, EXIF orientation 6 and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Phonecam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 10.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 53.0, 30.0)
    return encode(halves(size), "JPEG", quality=90, exif=exif.tobytes())


def is_close(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(pixel[:3], colour, strict=True))


# --- Accepted uploads ------------------------------------------------------------------------


def test_camera_jpeg_is_stored_upright_without_exif_with_renditions(
    media, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    # Sensor pixels 1000x700; orientation 6 means "turn 90° clockwise to view".
    original = camera_jpeg((1000, 700))
    assert Image.open(BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    with django_capture_on_commit_callbacks(execute=True):
        image = product_image_add(
            product=product, upload=upload(original), alt="  Red and blue mug  "
        )

    image.refresh_from_db()
    product.refresh_from_db()
    assert product.cover_image == image
    assert (image.width, image.height, image.position, image.alt) == (
        700,
        1000,
        0,
        "Red and blue mug",
    )
    assert image.image.name.startswith("products/")
    assert image.image.name.endswith(".jpg")
    with default_storage.open(image.image.name) as stored_file:
        data = stored_file.read()
    assert b"Exif" not in data
    assert b"Phonecam" not in data
    stored = Image.open(BytesIO(data))
    assert stored.format == "JPEG"
    assert stored.size == (700, 1000)
    assert not stored.getexif()
    # Turned clockwise, the red left half of the sensor image is now on top.
    assert is_close(stored.getpixel((350, 100)), RED)
    assert is_close(stored.getpixel((350, 900)), BLUE)

    assert image.renditions == {
        "320": f"products/renditions/{image.pk}-320.webp",
        "640": f"products/renditions/{image.pk}-640.webp",
        "700": f"products/renditions/{image.pk}-700.webp",
    }
    for width, name in image.renditions.items():
        rendition = Image.open(media / name)
        assert rendition.format == "WEBP"
        assert rendition.width == int(width)
        assert rendition.height == round(1000 * int(width) / 700)
        assert not rendition.getexif()


def test_jpeg_comments_are_dropped_too():
    data = encode(halves(), "JPEG", comment=b"Shot at 12 Harbour Lane")

    cleaned = image_validate(upload(data))

    assert b"Harbour Lane" not in cleaned.content


def test_png_keeps_its_transparency(media, django_capture_on_commit_callbacks):
    product = ProductFactory()
    picture = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    picture.paste((10, 200, 10, 255), (100, 100, 300, 200))

    with django_capture_on_commit_callbacks(execute=True):
        image = product_image_add(
            product=product, upload=upload(encode(picture, "PNG"), "logo.png", "image/png")
        )

    image.refresh_from_db()
    stored = Image.open(media / image.image.name)
    assert stored.format == "PNG"
    assert stored.mode == "RGBA"
    assert stored.getpixel((5, 5))[3] == 0
    assert stored.getpixel((200, 150))[3] == 255
    assert set(image.renditions) == {"320", "400"}
    rendition = Image.open(media / image.renditions["320"])
    assert rendition.format == "WEBP"
    assert rendition.mode == "RGBA"
    assert rendition.getpixel((2, 2))[3] == 0


def test_animated_gif_keeps_its_first_frame_as_png():
    frames = [Image.new("P", (60, 40), index) for index in (1, 2)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)

    cleaned = image_validate(upload(data, "spin.gif", "image/gif"))

    assert (cleaned.format, cleaned.width, cleaned.height) == ("PNG", 60, 40)
    stored = Image.open(BytesIO(cleaned.content))
    assert getattr(stored, "n_frames", 1) == 1


def test_cmyk_jpeg_is_stored_as_rgb():
    data = encode(Image.new("CMYK", (50, 50), (0, 255, 255, 0)), "JPEG")

    stored = Image.open(BytesIO(image_validate(upload(data)).content))

    assert stored.mode == "RGB"
    assert is_close(stored.getpixel((25, 25)), (255, 0, 0))


def test_extension_and_content_type_are_ignored():
    data = encode(halves(), "PNG")

    cleaned = image_validate(upload(data, "scan.jpg", "application/pdf"))

    assert cleaned.format == "PNG"
    assert cleaned.extension == ".png"


def test_adding_an_image_takes_a_fixed_number_of_queries(django_assert_max_num_queries):
    product = ProductFactory()
    product_image_add(product=product, upload=upload(jpeg()))

    # Lock the product, find the last position, insert the row, touch the product; inside
    # the test's transaction the service's own is a savepoint, taken and released.
    with django_assert_max_num_queries(6):
        product_image_add(product=product, upload=upload(jpeg()))


def test_images_are_appended_and_the_first_stays_cover():
    product = ProductFactory()
    first = product_image_add(product=product, upload=upload(jpeg()))
    variant = VariantFactory(product=product)

    second = product_image_add(product=product, upload=upload(jpeg()), variant=variant)

    product.refresh_from_db()
    assert (first.position, second.position) == (0, 1)
    assert second.variant == variant
    assert product.cover_image == first


# --- Refused uploads -------------------------------------------------------------------------


def assert_refused(media: Path, product: Product, file, message: str) -> None:
    with pytest.raises(CatalogError) as caught:
        product_image_add(product=product, upload=file)
    assert str(caught.value) == message
    assert not ProductImage.objects.exists()
    assert stored_files(media) == []
    product.refresh_from_db()
    assert product.cover_image is None


def test_text_file_named_jpg_is_refused_and_nothing_is_written(media):
    product = ProductFactory()

    assert_refused(media, product, upload(b"Not a picture at all\n" * 20), NOT_AN_IMAGE)
    assert NOT_AN_IMAGE == "That file is not an image we can use (JPEG, PNG, WebP or GIF)."


def test_truncated_jpeg_is_refused(media):
    data = jpeg((400, 300))

    assert_refused(media, ProductFactory(), upload(data[: len(data) // 2]), NOT_AN_IMAGE)


def test_corrupt_png_is_refused(media):
    data = bytearray(encode(halves(), "PNG"))
    data[60:80] = b"\x00" * 20  # inside the pixel data: the chunk checksum no longer matches

    assert_refused(media, ProductFactory(), upload(bytes(data), "a.png"), NOT_AN_IMAGE)


@pytest.mark.parametrize("fmt", ["TIFF", "BMP", "ICO", "PPM"])
def test_other_image_formats_are_refused(media, fmt):
    data = encode(halves((32, 32)), fmt)

    assert_refused(media, ProductFactory(), upload(data, "photo.png", "image/png"), NOT_AN_IMAGE)


def test_too_many_pixels_is_refused_before_decoding(media, monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 100 * 100 - 1)
    data = jpeg((100, 100))

    assert_refused(
        media,
        ProductFactory(),
        upload(data),
        "The image is too large: at most 0.009999 megapixels.",
    )
    # Only the header is read: a file cut short right after it gets the same answer, not
    # "damaged", so its pixel data was never decoded.
    scan_start = data.index(b"\xff\xda") + 20
    with pytest.raises(CatalogError, match="too large: at most"):
        image_validate(upload(data[:scan_start]))
    # The control: under the limit, the same cut file is found damaged when decoded.
    monkeypatch.setattr(images, "MAX_PIXELS", 40_000_000)
    with pytest.raises(CatalogError, match="not an image we can use"):
        image_validate(upload(data[:scan_start]))


def test_default_limits_read_plainly():
    assert images._too_many_pixels() == "The image is too large: at most 40 megapixels."
    assert images._too_many_bytes() == "The image is larger than 10 MB."


@pytest.mark.parametrize(
    "size",
    [
        pytest.param((40, 40), id="warning-zone"),  # 1600 pixels: Pillow only warns
        pytest.param((100, 100), id="error-zone"),  # over twice the limit: Pillow raises
    ],
)
def test_decompression_bomb_is_refused(media, monkeypatch, size):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)

    assert_refused(
        media,
        ProductFactory(),
        upload(jpeg(size)),
        "The image is too large: at most 40 megapixels.",
    )


def test_oversize_upload_is_refused(media):
    too_big = jpeg() + b"\x00" * (10 * 1024 * 1024)

    assert_refused(media, ProductFactory(), upload(too_big), "The image is larger than 10 MB.")


def test_oversize_stream_without_a_size_is_refused():
    stream = BytesIO(b"\xff\xd8" + b"\x00" * (10 * 1024 * 1024))

    with pytest.raises(CatalogError, match="larger than 10 MB"):
        image_validate(stream)


def test_empty_file_is_refused():
    with pytest.raises(CatalogError, match="not an image we can use"):
        image_validate(upload(b""))


def test_variant_of_another_product_is_refused(media):
    product = ProductFactory()

    with pytest.raises(CatalogError, match="another product"):
        product_image_add(product=product, upload=upload(jpeg()), variant=VariantFactory())
    assert not ProductImage.objects.exists()
    assert stored_files(media) == []


# --- Order, cover, removal -------------------------------------------------------------------


def three_images(product: Product) -> list[ProductImage]:
    return [product_image_add(product=product, upload=upload(jpeg())) for _ in range(3)]


def positions(product: Product) -> dict[int, int]:
    return dict(product.images.values_list("pk", "position"))


def test_reorder_rewrites_positions_and_cover():
    product = ProductFactory()
    first, second, third = three_images(product)

    product_images_reorder(product=product, image_ids=[third.pk, first.pk, second.pk])

    product.refresh_from_db()
    assert positions(product) == {third.pk: 0, first.pk: 1, second.pk: 2}
    assert product.cover_image == third
    assert list(product.images.all()) == [third, first, second]


@pytest.mark.parametrize("case", ["missing", "duplicate", "foreign", "not-a-number"])
def test_reorder_with_wrong_ids_is_refused_and_changes_nothing(case):
    product = ProductFactory()
    first, second, third = three_images(product)
    foreign = product_image_add(product=ProductFactory(), upload=upload(jpeg()))
    before = positions(product)
    image_ids = {
        "missing": [third.pk, first.pk],
        "duplicate": [third.pk, first.pk, first.pk],
        "foreign": [third.pk, first.pk, second.pk, foreign.pk],
        "not-a-number": [third.pk, first.pk, "two"],
    }[case]

    with pytest.raises(CatalogError):
        product_images_reorder(product=product, image_ids=image_ids)

    product.refresh_from_db()
    assert positions(product) == before
    assert product.cover_image == first


def test_removing_the_cover_moves_it_and_deletes_the_files(
    media, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first, second, third = three_images(product)
    product_images_reorder(product=product, image_ids=[first.pk, third.pk, second.pk])
    first.refresh_from_db()
    removed_files = [first.image.name, *first.renditions.values()]
    assert all((media / name).is_file() for name in removed_files)

    with django_capture_on_commit_callbacks(execute=True):
        product_image_remove(image=first)

    product.refresh_from_db()
    assert product.cover_image == third
    assert not ProductImage.objects.filter(pk=first.pk).exists()
    assert not any((media / name).exists() for name in removed_files)
    assert (media / second.image.name).is_file()


def test_removing_another_image_keeps_the_cover_and_twice_is_harmless(
    django_capture_on_commit_callbacks,
):
    product = ProductFactory()
    first, second, _ = three_images(product)

    with django_capture_on_commit_callbacks(execute=True):
        product_image_remove(image=second)
        product_image_remove(image=second)

    product.refresh_from_db()
    assert product.cover_image == first
    assert product.images.count() == 2


def test_removing_the_last_image_clears_the_cover(django_capture_on_commit_callbacks):
    product = ProductFactory()
    only = product_image_add(product=product, upload=upload(jpeg()))

    with django_capture_on_commit_callbacks(execute=True):
        product_image_remove(image=only)

    product.refresh_from_db()
    assert product.cover_image is None


# --- Renditions ------------------------------------------------------------------------------


def test_rendition_widths_never_upscale():
    assert rendition_widths(100) == [100]
    assert rendition_widths(640) == [320, 640]
    assert rendition_widths(1440) == [320, 640, 960]
    assert rendition_widths(1441) == [320, 640, 960, 1440]
    assert rendition_widths(4000) == [320, 640, 960, 1440]


def test_renditions_are_queued_only_when_the_upload_commits(django_capture_on_commit_callbacks):
    product = ProductFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        image = product_image_add(product=product, upload=upload(jpeg()))

    assert len(callbacks) == 1
    image.refresh_from_db()
    assert image.renditions == {}


def test_renditions_task_twice_gives_the_same_map_and_files(
    media, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        image = product_image_add(product=product, upload=upload(jpeg((2000, 1000))))
    image.refresh_from_db()
    first_map = image.renditions
    assert set(first_map) == {"320", "640", "960", "1440"}
    files = {name: (media / name).read_bytes() for name in first_map.values()}
    files_before = stored_files(media)

    second_map = product_image_renditions_task.delay(image.pk).get()

    assert second_map == first_map
    image.refresh_from_db()
    assert image.renditions == first_map
    assert stored_files(media) == files_before
    assert {name: (media / name).read_bytes() for name in first_map.values()} == files


def test_renditions_are_rebuilt_when_a_file_went_missing(media):
    image = product_image_add(product=ProductFactory(), upload=upload(jpeg((700, 500))))
    made = product_image_renditions_make(image_id=image.pk)
    (media / made["320"]).unlink()
    files_before = stored_files(media)

    assert product_image_renditions_make(image_id=image.pk) == made

    assert (media / made["320"]).is_file()
    assert len(stored_files(media)) == len(files_before) + 1  # rewritten, not suffixed


def test_renditions_of_a_deleted_image_are_nothing(media):
    assert product_image_renditions_make(image_id=987654) == {}
    assert stored_files(media) == []


# --- Templates -------------------------------------------------------------------------------


def test_srcset_lists_renditions_by_width_or_falls_back_to_the_original():
    image = product_image_add(product=ProductFactory(), upload=upload(jpeg((1000, 500))))

    assert image_srcset(image) == f"/media/{image.image.name} 1000w"

    product_image_renditions_make(image_id=image.pk)
    image.refresh_from_db()
    assert image_srcset(image) == ", ".join(
        f"/media/products/renditions/{image.pk}-{width}.webp {width}w"
        for width in (320, 640, 960, 1000)
    )
