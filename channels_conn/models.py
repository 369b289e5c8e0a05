from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from channels_conn.kinds import ChannelKind
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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("cuenta de canal")
        verbose_name_plural = _("cuentas de canal")
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["tenant", "kind"], name="account_tenant_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"


class MailboxState(TenantModel):
    """Where polling of one IMAP folder stands: its UIDVALIDITY and the highest UID stored.

    The high-water mark is saved after every batch, so an outage resumes where it stopped."""

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="+")
    folder = models.CharField(max_length=255)
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    polled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "folder"], name="mailbox_state_unique")
        ]


class InboundEmail(TenantModel):
    """One received email, raw bytes first (stored before parsing, kept when parsing fails).

    Unique on (account, folder, UIDVALIDITY, UID): the same IMAP message is stored once."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("recibido")
        PROCESSED = "processed", _("procesado")
        FAILED = "failed", _("fallido")

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="+")
    folder = models.CharField(max_length=255)
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    message_id = models.CharField(max_length=255, blank=True, default="")
    raw = models.BinaryField(default=b"")
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "folder", "uidvalidity", "uid"], name="inbound_email_unique"
            )
        ]
        indexes = [models.Index(fields=["account", "message_id"], name="inbound_email_msgid")]


# The Meta channels' models live with their code (channels_conn/meta/models.py).
from channels_conn.meta.models import (  # noqa: E402
    MetaMessageInfo,
    MetaRejectedWebhook,
    MetaWebhookEvent,
)

__all__ = [
    "ChannelAccount",
    "InboundEmail",
    "MailboxState",
    "MetaMessageInfo",
    "MetaRejectedWebhook",
    "MetaWebhookEvent",
]
