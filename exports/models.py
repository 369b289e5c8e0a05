"""Export jobs (a file of tickets or messages built in the background) and the tenant's
retention setting."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models import TenantModel, User

DEFAULT_RETENTION_DAYS = 7


def _token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits: the file's name cannot be guessed


class ExportKind(models.TextChoices):
    TICKETS = "tickets", _("Tickets")
    MESSAGES = "messages", _("Mensajes")


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", _("Excel (XLSX)")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("En cola")
    RUNNING = "running", _("Generando")
    DONE = "done", _("Lista")
    FAILED = "failed", _("Falló")
    EXPIRED = "expired", _("Expirada")


class ExportJob(TenantModel):
    """One requested export. The file lives under MEDIA_ROOT/exports/<tenant>/<token>.<ext>
    until ``expires_at``; the row stays as the record of who exported what."""

    token = models.CharField(max_length=40, unique=True, default=_token, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("quién")
    )
    kind = models.CharField(_("tipo"), max_length=10, choices=ExportKind.choices)
    format = models.CharField(_("formato"), max_length=5, choices=ExportFormat.choices)
    filters = models.JSONField(_("filtros"), default=dict, blank=True)
    date_from = models.DateField(_("desde"))
    date_to = models.DateField(_("hasta"))
    # The requester's language: headers and labels of the file are written in it.
    language = models.CharField(max_length=8, default="es")
    status = models.CharField(
        _("estado"), max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    total_rows = models.PositiveBigIntegerField(_("filas esperadas"), null=True, blank=True)
    row_count = models.PositiveBigIntegerField(_("filas"), default=0)
    size = models.PositiveBigIntegerField(_("tamaño (bytes)"), default=0)
    error = models.CharField(_("motivo del fallo"), max_length=500, blank=True, default="")
    created_at = models.DateTimeField(_("creada"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expira"))

    class Meta:
        verbose_name = _("exportación")
        verbose_name_plural = _("exportaciones")
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="export_recent"),
            models.Index(fields=["tenant", "created_by", "-created_at", "-id"], name="export_mine"),
            # The beat sweep looks for files past their date.
            models.Index(
                fields=["tenant", "expires_at"],
                name="export_expiring",
                condition=~Q(status="expired"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date_from:%Y-%m-%d} – {self.date_to:%Y-%m-%d}"  # noqa: RUF001

    @property
    def is_active(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def file_name(self) -> str:
        """The stored name: random, never built from input."""
        return f"exports/{self.tenant_id}/{self.token}.{self.format}"

    @property
    def download_name(self) -> str:
        """The name the person's browser saves."""
        return f"{self.kind}_{self.date_from:%Y-%m-%d}_{self.date_to:%Y-%m-%d}.{self.format}"


class ExportSettings(TenantModel):
    """One row per tenant: how long export files are kept."""

    retention_days = models.PositiveSmallIntegerField(
        _("días de retención"),
        default=DEFAULT_RETENTION_DAYS,
        help_text=_("Los archivos se borran pasado este número de días."),
    )

    class Meta:
        verbose_name = _("ajustes de exportación")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="export_settings_one")]

    def __str__(self) -> str:
        return str(_("Ajustes de exportación"))
