"""Writes of the exports: request one, build its file (in a worker), record a download, set
the retention, and delete what expired."""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from admin_config import audit
from deskconfig.models import ConfigChange
from exports.models import (
    DEFAULT_RETENTION_DAYS,
    ExportFormat,
    ExportJob,
    ExportKind,
    ExportSettings,
    ExportStatus,
)
from exports.queries import export_spec, export_sql
from exports.writers import server_rows, write_csv, write_xlsx
from helpdesk.models import User
from helpdesk.tenancy import bypass_context

log = logging.getLogger(__name__)
SECTION = "exports"
PROGRESS_TTL = 6 * 3600


def exports_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def job_path(job: ExportJob) -> Path:
    return exports_root() / job.file_name


def progress_key(job_id: int) -> str:
    return f"exports:progress:{job_id}"


def job_progress(job: ExportJob) -> int:
    """Rows written so far: the worker keeps the count in the cache while it writes (the
    rows it reads are in one open transaction, so the job's row cannot carry it)."""
    if job.status == ExportStatus.RUNNING:
        return int(cache.get(progress_key(job.pk)) or 0)
    return job.row_count


def retention_days(tenant_id: int) -> int:
    row = ExportSettings.objects.filter(tenant_id=tenant_id).first()
    return row.retention_days if row else DEFAULT_RETENTION_DAYS


def export_request(
    *,
    user: User,
    kind: str,
    fmt: str,
    date_from: datetime.date,
    date_to: datetime.date,
    filters: dict[str, Any],
) -> ExportJob:
    """Queue an export (the form has validated the range and every id)."""
    from exports.tasks import export_build

    now = timezone.now()
    with transaction.atomic():
        job = ExportJob.objects.create(
            tenant_id=user.tenant_id,
            created_by=user,
            kind=ExportKind(kind),
            format=ExportFormat(fmt),
            filters=filters,
            date_from=date_from,
            date_to=date_to,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            created_at=now,
            expires_at=now + datetime.timedelta(days=retention_days(user.tenant_id or 0)),
        )
        tenant_id, job_id = user.tenant_id, job.pk
        transaction.on_commit(lambda: export_build.delay(tenant_id, job_id))
    return job


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return _("No se pudo escribir el archivo: %(error)s") % {
            "error": exc.strerror or exc.__class__.__name__
        }
    if isinstance(exc, DatabaseError):
        return _("La base de datos no pudo entregar las filas (%(error)s). Inténtalo de nuevo.") % {
            "error": exc.__class__.__name__
        }
    return _("Error inesperado (%(error)s). Inténtalo de nuevo.") % {
        "error": exc.__class__.__name__
    }


def _write(job: ExportJob, path: Path) -> int:
    spec = export_spec(job)
    key = progress_key(job.pk)

    def progress(count: int) -> None:
        cache.set(key, min(count, job.total_rows or count), timeout=PROGRESS_TTL)

    # The count first (its own statement), so the page can show how far along the file is.
    job.total_rows = spec.rows.count()
    job.save(update_fields=["total_rows"])
    progress(0)
    sql, params = export_sql(spec, job.format)
    if job.format == ExportFormat.CSV:
        return write_csv(path, spec.headers, sql, params, progress)
    title = str(job.get_kind_display())
    # A server-side cursor streams only inside a transaction: outside one it would be WITH
    # HOLD, which PostgreSQL materialises whole before the first row.
    with transaction.atomic():
        return write_xlsx(path, spec.headers, server_rows(sql, params), progress, title=title)


def export_run(*, job_id: int) -> ExportJob | None:
    """Build a queued job's file. Idempotent: a finished, failed or expired job is left as
    it is; a job whose worker died while running starts over."""
    job = ExportJob.objects.select_related("tenant").filter(pk=job_id).first()
    if job is None or job.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        return job
    job.status, job.started_at = ExportStatus.RUNNING, timezone.now()
    job.save(update_fields=["status", "started_at"])
    path = job_path(job)
    partial = path.with_name(path.name + ".part")
    with translation.override(job.language):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = _write(job, partial)
            os.replace(partial, path)
        except Exception as exc:
            log.exception("export %s failed", job.pk)
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            job.status, job.error = ExportStatus.FAILED, _failure_reason(exc)[:500]
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "error", "finished_at"])
            return job
    job.status, job.row_count, job.size = ExportStatus.DONE, rows, path.stat().st_size
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "row_count", "size", "finished_at"])
    cache.delete(progress_key(job.pk))
    return job


def export_download_record(*, user: User, job: ExportJob) -> ConfigChange:
    """Every download goes to the configuration audit log: who took which file."""
    return ConfigChange.objects.create(
        tenant_id=user.tenant_id,
        actor=user,
        section=SECTION,
        action=ConfigChange.Action.CREATE,
        object_type=job._meta.model_name or "",
        object_id=str(job.pk),
        object_repr=(_("Descarga: %(export)s") % {"export": job})[:200],
        # The file's name is the download's secret: it is not written to the log.
        after={
            "kind": job.kind,
            "format": job.format,
            "date_from": job.date_from.isoformat(),
            "date_to": job.date_to.isoformat(),
            "filters": job.filters,
            "row_count": job.row_count,
            "size": job.size,
        },
    )


def export_settings_save(*, user: User, retention: int) -> ExportSettings:
    with transaction.atomic():
        row, _created = ExportSettings.objects.select_for_update().get_or_create(
            tenant_id=user.tenant_id
        )
        before = audit.snapshot(row)
        row.retention_days = retention
        row.save(update_fields=["retention_days"])
        audit.record(
            actor=user,
            section=SECTION,
            action=ConfigChange.Action.UPDATE,
            obj=row,
            before=before,
            after=audit.snapshot(row),
        )
    return row


def exports_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete every file past its date, in every tenant (a cross-tenant schedule); the rows
    stay, marked expired, as the record of what was exported."""
    now = now or timezone.now()
    count = 0
    with bypass_context():
        due = ExportJob.all_tenants.filter(expires_at__lte=now).exclude(status=ExportStatus.EXPIRED)
        for job in due.iterator():
            path = job_path(job)
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".part").unlink(missing_ok=True)
            job.status = ExportStatus.EXPIRED
            job.save(update_fields=["status"])
            count += 1
    return count
