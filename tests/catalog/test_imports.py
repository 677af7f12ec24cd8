from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.imports import product_import_run
from catalog.models import Product, ProductImport, Variant
from tests.factories import StaffFactory, VariantFactory

pytestmark = pytest.mark.django_db
GOOD = (
    "handle,title,status,option1_name,option1_value,sku,price\n"
    "linen-shirt,Linen Shirt,active,Size,M,LS-M,30.00\n"
    "linen-shirt,,,Size,L,LS-L,35.00\n"
)
BAD = (
    "handle,title,status,option1_name,option1_value,sku,price\n"
    "linen-shirt,Linen Shirt,active,Size,M,LS-M,30.00\n"
    "linen-shirt,,,Size,L,LS-L,lots\n"
)


@pytest.fixture
def manager(client, roles, staff_login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return staff_login(StaffFactory(role="Manager"))


def upload(client, text: str, name: str = "products.csv"):
    return client.post(
        "/dashboard/catalog/imports/", {"file": SimpleUploadedFile(name, text.encode(), "text/csv")}
    )


def test_a_good_file_is_imported_by_the_worker(manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(manager, GOOD)
    job = ProductImport.objects.get()
    assert response["Location"] == f"/dashboard/catalog/imports/{job.pk}/"
    job.refresh_from_db()
    assert job.status == ProductImport.Status.DONE
    assert job.result["variants_created"] == 2
    product = Product.objects.get(slug="linen-shirt")
    assert (product.price_min, product.price_max) == (Decimal("30.00"), Decimal("35.00"))
    page = manager.get(f"/dashboard/catalog/imports/{job.pk}/").text
    assert "2 new, 0 changed" in page


def test_a_bad_file_lists_its_lines_and_changes_nothing(
    manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager, BAD)
    job = ProductImport.objects.get()
    assert job.status == ProductImport.Status.FAILED
    assert any(error.startswith("line 3:") for error in job.errors)
    assert not Product.objects.exists()
    page = manager.get(f"/dashboard/catalog/imports/{job.pk}/").text
    assert "Nothing imported" in page
    assert "line 3:" in page


def test_progress_is_polled_while_queued(manager):
    upload(manager, GOOD)  # on_commit not run: the worker has not started
    job = ProductImport.objects.get()
    partial = manager.get(f"/dashboard/catalog/imports/{job.pk}/", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<section id="import-status"')
    assert 'hx-trigger="every 1s"' in partial.text
    assert "Waiting for a worker" in partial.text


def test_a_redelivered_task_runs_the_import_once(manager):
    upload(manager, GOOD)
    job = ProductImport.objects.get()
    assert product_import_run(import_id=job.pk) is not None
    assert product_import_run(import_id=job.pk) is None
    assert Variant.objects.count() == 2


def test_only_csv_files_are_taken(manager):
    response = upload(manager, GOOD, name="products.xlsx")
    assert "Choose a .csv file" in response.text
    assert not ProductImport.objects.exists()


def test_export_streams_every_product(manager):
    VariantFactory(sku="EXP-1", product__slug="exported")
    response = manager.get("/dashboard/catalog/products/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    assert "exported" in body
    assert "EXP-1" in body


def test_roles_that_only_read_the_catalog_can_neither_import_nor_export(client, roles, staff_login):
    # The export carries cost prices; the import changes products and prices.
    staff_login(StaffFactory(role="Support"))
    assert client.get("/dashboard/catalog/imports/").status_code == 403
    assert client.get("/dashboard/catalog/products/export.csv").status_code == 403


def test_uploaded_files_are_private_and_removed_after_the_import(manager, settings):
    from pathlib import Path

    from catalog.imports import product_import_run

    upload(manager, GOOD, name="costs & drafts.csv")
    job = ProductImport.objects.get()
    stored = Path(job.file.path)
    assert stored.exists()
    assert stored.is_relative_to(Path(settings.VAR_DIR) / "private")  # never under /media/
    assert "costs" not in stored.name
    product_import_run(import_id=job.pk)
    job.refresh_from_db()
    assert job.status == ProductImport.Status.DONE
    assert not stored.exists()
    assert job.original_name == "costs & drafts.csv"


def test_a_crash_during_the_import_fails_the_job_and_changes_nothing(manager, monkeypatch):
    import catalog.imports as imports

    upload(manager, GOOD)
    job = ProductImport.objects.get()

    def boom(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(imports, "products_import", boom)
    with pytest.raises(RuntimeError):
        product_import_run(import_id=job.pk)
    job.refresh_from_db()
    assert job.status == ProductImport.Status.FAILED
    assert "error on our side" in job.errors[0]
    assert not Product.objects.exists()


def test_a_lost_database_puts_the_job_back_for_the_retry(manager, monkeypatch):
    from django.db import OperationalError

    import catalog.imports as imports

    upload(manager, GOOD)
    job = ProductImport.objects.get()

    def gone(**kwargs):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(imports, "products_import", gone)
    with pytest.raises(OperationalError):
        product_import_run(import_id=job.pk)
    job.refresh_from_db()
    assert job.status == ProductImport.Status.QUEUED
    monkeypatch.undo()
    assert product_import_run(import_id=job.pk).status == ProductImport.Status.DONE
