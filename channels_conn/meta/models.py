"""What Meta's webhooks leave in the database: one row per routed entry (kept for inspection
and retry), the bodies that were signed but unreadable, and the per-message extras of the Meta
channels (reactions, quoted context, ad referrals, comment state)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.models import TenantModel


class MetaWebhookEvent(TenantModel):
    """One webhook entry routed to one of the tenant's accounts, stored before processing.

    A POST may carry entries of several tenants: each gets its own row in its own tenant, so no
    tenant ever holds another's data. Unique on (account, digest of the entry): the same entry
    posted twice (Meta's retries, two deliveries at once) is stored and processed once."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("recibido")
        PROCESSED = "processed", _("procesado")
        FAILED = "failed", _("fallido")

    account = models.ForeignKey(
        "channels_conn.ChannelAccount", on_delete=models.CASCADE, related_name="+"
    )
    object = models.CharField(max_length=40)
    entry = models.JSONField()
    digest = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "digest"], name="meta_event_unique")
        ]
        indexes = [
            models.Index(
                fields=["tenant", "account", "status", "-created_at"], name="meta_event_status"
            ),
            # The drains' queue (channels_conn.meta.batch): only what is still to be filed.
            models.Index(
                fields=["tenant", "id"],
                name="meta_event_pending",
                condition=models.Q(status="received"),
            ),
        ]


class MetaRejectedWebhook(models.Model):
    """A correctly signed body that is not JSON (answered 400): kept for the platform's
    operators, as no tenant can be told from it."""

    raw = models.BinaryField()
    reason = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.reason} ({self.created_at:%Y-%m-%d %H:%M})"


class MetaMessageInfo(TenantModel):
    """What a Meta channel says about a message beyond its text: ``data`` keys are
    ``reactions`` ({who: emoji}), ``referral``, ``location``, ``forwarded``, ``comment``
    ({post_id, parent_id, permalink}), ``removed``, ``edited``, ``story``, ``from_meta`` (sent
    from Meta's own inbox or another app), ``private_reply`` (when the private reply went)."""

    message = models.OneToOneField("tickets.Message", on_delete=models.CASCADE, related_name="meta")
    data = models.JSONField(default=dict, blank=True)
    post_id = models.CharField(max_length=120, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "post_id"], name="meta_info_post", condition=~models.Q(post_id="")
            )
        ]
