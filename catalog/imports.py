"""Product CSV imports from the dashboard: stored, run by a worker, progress in the cache.

The import itself is one transaction (catalog.csv_io.products_import), so its progress
is invisible in the database until it commits; the worker writes it to the cache, which
the progress bar reads.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePath

from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.csv_io import MAX_BYTES, CsvImportError, products_csv_parse, products_import
from catalog.models import ProductImport
from catalog.search import search_words_refresh
from catalog.services import CatalogError

ERRORS_KEPT = 300
UNEXPECTED = "The import stopped because of an error on our side; nothing was changed. Try again."
# A run older than this is taken to have died with its worker (its transaction rolled
# back), so a redelivered task may start it again.
STALE_AFTER = timedelta(minutes=30)


def progress_key(import_id: int) -> str:
    return f"product-import:{import_id}:progress"


def import_progress(*, job: ProductImport) -> tuple[int, int]:
    """(done, total) rows of a running import; (0, 0) before the worker starts."""
    if job.finished:
        return job.rows, job.rows
    return cache.get(progress_key(job.pk)) or (0, 0)


@transaction.atomic
def product_import_start(*, upload: UploadedFile, actor: object | None = None) -> ProductImport:
    """Keep the uploaded file and queue the import; the file is checked by the worker."""
    name = PurePath(upload.name or "products.csv").name
    if not name.lower().endswith(".csv"):
        raise CatalogError("Choose a .csv file (export one from a spreadsheet as CSV, UTF-8).")
    if upload.size and upload.size > MAX_BYTES:
        raise CatalogError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    job = ProductImport.objects.create(file=upload, original_name=name[:255], created_by=actor)
    from catalog.tasks import product_import_task

    transaction.on_commit(lambda: product_import_task.delay(job.pk))
    return job


def product_import_run(*, import_id: int) -> ProductImport | None:
    """Run a queued import once; a redelivered message finds it claimed and does nothing."""
    now = timezone.now()
    claimed = ProductImport.objects.filter(
        Q(status=ProductImport.Status.QUEUED)
        | Q(status=ProductImport.Status.RUNNING, started_at__lt=now - STALE_AFTER),
        pk=import_id,
    ).update(status=ProductImport.Status.RUNNING, started_at=now)
    if not claimed:
        return None
    job = ProductImport.objects.get(pk=import_id)
    try:
        return _run(job)
    except OperationalError:
        # The database went away: hand the job back so Celery's retry can claim it again.
        ProductImport.objects.filter(pk=job.pk).update(status=ProductImport.Status.QUEUED)
        raise
    except Exception:
        # Anything else is a bug; the import's transaction rolled back, so say so rather
        # than leave the progress bar polling forever. The exception still reaches the logs.
        _finish(job, ProductImport.Status.FAILED, rows=0, errors=[UNEXPECTED])
        raise


def _run(job: ProductImport) -> ProductImport:
    with job.file.open("rb") as handle:
        plan = products_csv_parse(file=handle)
    if plan.errors:
        return _finish(job, ProductImport.Status.FAILED, rows=plan.rows, errors=plan.errors)

    def progress(done: int, total: int) -> None:
        cache.set(progress_key(job.pk), (done, total), timeout=3600)

    try:
        result = products_import(plan=plan, actor=job.created_by, progress=progress)
    except CsvImportError as err:
        return _finish(job, ProductImport.Status.FAILED, rows=plan.rows, errors=err.errors)
    except CatalogError as err:
        return _finish(job, ProductImport.Status.FAILED, rows=plan.rows, errors=[str(err)])
    search_words_refresh()  # new titles can be found despite typos right away
    return _finish(job, ProductImport.Status.DONE, rows=plan.rows, result=vars(result))


def _finish(job: ProductImport, status: str, *, rows: int, errors=(), result=None) -> ProductImport:
    job.status = status
    job.rows = rows
    job.errors = [str(error) for error in list(errors)[:ERRORS_KEPT]]
    job.result = result or {}
    job.finished_at = timezone.now()
    # The uploaded file holds costs and unpublished products: gone once read.
    if job.file:
        job.file.delete(save=False)
    job.save(update_fields=["status", "rows", "errors", "result", "finished_at", "file"])
    cache.delete(progress_key(job.pk))
    return job
