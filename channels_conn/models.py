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
        # Automatic mail that refers to no ticket: kept and listed, never a ticket.
        IGNORED = "ignored", _("ignorado")
        # The same Message-ID with the same content as a mail already filed.
        DUPLICATE = "duplicate", _("duplicado")

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="+")
    folder = models.CharField(max_length=255)
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    message_id = models.CharField(max_length=255, blank=True, default="")
    raw = models.BinaryField(default=b"")
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True, default="")
    # parse.content_hash of the raw bytes: tells a re-delivered copy from a different mail
    # that reuses a Message-ID.
    content_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "folder", "uidvalidity", "uid"], name="inbound_email_unique"
            )
        ]
        indexes = [models.Index(fields=["account", "message_id"], name="inbound_email_msgid")]


class EmailParticipant(TenantModel):
    """Someone other than the customer on an email ticket (To/Cc of the customer's mail):
    kept on the Cc of our replies. The desk's own addresses are never participants."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=254)
    name = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "address"], name="email_participant_unique")
        ]
        indexes = [
            models.Index(fields=["tenant", "ticket", "address"], name="email_participant_ticket")
        ]

    def __str__(self) -> str:
        return self.address


# The Meta channels' models live with their code (channels_conn/meta/models.py).
from channels_conn.meta.models import (  # noqa: E402
    MetaMessageInfo,
    MetaRejectedWebhook,
    MetaWebhookEvent,
)

__all__ = [
    "ChannelAccount",
    "EmailParticipant",
    "InboundEmail",
    "MailboxState",
    "MetaMessageInfo",
    "MetaRejectedWebhook",
    "MetaWebhookEvent",
]
