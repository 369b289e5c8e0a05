"""A connected account of a channel (a mailbox, a WhatsApp number, a page...).

It lives in the configuration layer so ``tickets`` may point at it; its Django app label stays
``channels_conn``, whose migrations own the table."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from deskconfig.kinds import ChannelKind
from helpdesk.crypto import EncryptedJSONField
from helpdesk.models import TenantModel


class ChannelAccount(TenantModel):
    """One connected account of one channel: a mailbox, a WhatsApp number, a page..."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("canal"), max_length=16, choices=ChannelKind.choices)
    name = models.CharField(_("nombre"), max_length=120)
    settings = models.JSONField(_("ajustes"), default=dict, blank=True)
    credentials = EncryptedJSONField(_("credenciales"), blank=True, default="")
    sla_minutes = models.PositiveIntegerField(_("SLA (minutos)"), default=60)
    resolution_minutes = models.PositiveIntegerField(
        _("tiempo de resolución (minutos)"), null=True, blank=True
    )
    # With a schedule the SLA counts business time only; without one it runs around the clock
    # (and the out-of-hours reply uses the tenant's main schedule).
    schedule = models.ForeignKey(
        "admin_config.BusinessSchedule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("horario de atención"),
    )
    active = models.BooleanField(_("activa"), default=True)
    # Why the provider refused the credentials (X 401, Graph 190, IMAP/SMTP login refused) and
    # since when: set and cleared only through deskconfig.reconnect. The account stays active
    # (what the provider still delivers keeps arriving); sends are refused with the reason.
    reconnect_reason = models.TextField(_("motivo para reconectar"), blank=True, default="")
    reconnect_since = models.DateTimeField(_("necesita reconectarse desde"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "channels_conn"
        verbose_name = _("cuenta de canal")
        verbose_name_plural = _("cuentas de canal")
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["tenant", "kind"], name="account_tenant_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"
