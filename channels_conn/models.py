from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from deskconfig.accounts import ChannelAccount
from helpdesk.models import TenantModel


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
