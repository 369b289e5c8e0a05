"""Where reading one X account stands, and every mention and DM as X gave it to us."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from deskconfig.accounts import ChannelAccount
from helpdesk.models import TenantModel

DEFAULT_INTERVAL = 60  # seconds between polls when X's limits allow it


class TwitterState(TenantModel):
    """One row per X account: its cursors (mentions ``since_id``, the newest DM event seen),
    its schedule (next poll, slower when the limits demand it) and the claim that keeps two
    polls of the account from overlapping. Saved after every step, so a restart resumes."""

    account = models.OneToOneField(ChannelAccount, on_delete=models.CASCADE, related_name="+")
    since_id = models.CharField(max_length=32, blank=True, default="")
    dm_newest_id = models.CharField(max_length=32, blank=True, default="")
    interval_seconds = models.PositiveIntegerField(default=DEFAULT_INTERVAL)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    # Set by the poll that runs now; a crashed worker's claim expires at this time.
    claimed_until = models.DateTimeField(null=True, blank=True)
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    server_errors = models.PositiveSmallIntegerField(default=0)  # consecutive 5xx: backoff
    last_error = models.TextField(blank=True, default="")
    polled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "next_poll_at"], name="twitter_state_due")]


class TwitterEvent(TenantModel):
    """A mention (tweet) or a DM event, stored as received before it is filed on a ticket.

    Unique on (account, kind, event id): a tweet or DM read twice is stored once."""

    class Kind(models.TextChoices):
        MENTION = "mention", _("mención")
        DM = "dm", _("mensaje directo")

    class Status(models.TextChoices):
        RECEIVED = "received", _("recibido")
        PROCESSED = "processed", _("procesado")
        SKIPPED = "skipped", _("omitido")  # our own tweet or DM coming back
        FAILED = "failed", _("fallido")

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    event_id = models.CharField(max_length=32)
    author_id = models.CharField(max_length=32, blank=True, default="")
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "event_id"], name="twitter_event_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "account", "status"],
                name="twitter_event_pending",
                condition=Q(status__in=["received", "failed"]),
            ),
            models.Index(fields=["tenant", "account", "event_id"], name="twitter_event_id"),
        ]
