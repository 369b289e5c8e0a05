"""Thin Celery tasks of X: beat fans out one poll per due account (ids in)."""

from __future__ import annotations

from typing import Any

from helpdesk.celery import TenantTask, app


@app.task(base=TenantTask, acks_late=True, ignore_result=True)
def poll_x_account(tenant_id: int, account_id: int) -> dict[str, Any] | None:
    """Poll one X account once; a poll already running for it makes this one a no-op."""
    from dataclasses import asdict

    from channels_conn.twitter.poll import poll_account
    from deskconfig.accounts import ChannelAccount
    from deskconfig.kinds import ChannelKind

    account = ChannelAccount.objects.filter(
        pk=account_id, kind=ChannelKind.TWITTER, active=True, reconnect_reason=""
    ).first()
    if account is None or not (account.settings or {}).get("user_id"):
        return None
    return asdict(poll_account(account))


@app.task(ignore_result=True)
def poll_due_x_accounts() -> int:
    """Beat, every minute: one ``poll_x_account`` per active X account whose next poll is due
    (an account waiting for X's rate-limit reset or backing off is not due)."""
    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    from channels_conn.twitter.models import TwitterState
    from deskconfig.accounts import ChannelAccount
    from deskconfig.kinds import ChannelKind
    from helpdesk.tenancy import bypass_context

    now = timezone.now()
    not_due = TwitterState.all_tenants.filter(account=OuterRef("pk")).filter(
        Q(next_poll_at__gt=now) | Q(claimed_until__gt=now)
    )
    with bypass_context():
        accounts = list(
            ChannelAccount.objects.filter(
                kind=ChannelKind.TWITTER,
                active=True,
                reconnect_reason="",  # X refused its keys: read again once reconnected
                settings__has_key="user_id",
            )
            .filter(~Exists(not_due))
            .values_list("tenant_id", "pk")
        )
    for tenant_id, account_id in accounts:
        poll_x_account.delay(tenant_id, account_id)
    return len(accounts)
