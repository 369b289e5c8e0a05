"""Thin Celery tasks of the channels: ids in, the services do the work."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from helpdesk.celery import TenantTask, app

POLL_LOCK_SECONDS = 15 * 60  # longer than any sane poll; a crashed worker frees it by expiry


@app.task(base=TenantTask, acks_late=True, ignore_result=True)
def poll_mailbox(tenant_id: int, account_id: int) -> dict[str, Any] | None:
    """Poll one email account once. Idempotent: stored UIDs and Message-IDs are skipped.
    Errors propagate (recorded on the folder's state); the next beat tick retries."""
    from dataclasses import asdict

    from channels_conn.email.imap import poll_account
    from deskconfig.accounts import ChannelAccount
    from deskconfig.kinds import ChannelKind

    account = ChannelAccount.objects.filter(
        pk=account_id, kind=ChannelKind.EMAIL, active=True
    ).first()
    if account is None or not (account.settings or {}).get("imap_host"):
        return None
    # One poll per mailbox at a time: a slow poll must not overlap the next beat tick's.
    # (Overlap would be safe, as storing is insert-or-ignore, but it doubles the IMAP work.)
    lock = f"poll-mailbox:{account_id}"
    if not cache.add(lock, 1, timeout=POLL_LOCK_SECONDS):
        return None
    try:
        return asdict(poll_account(account))
    finally:
        cache.delete(lock)


@app.task(ignore_result=True)
def poll_all_mailboxes() -> int:
    """Beat fan-out: one ``poll_mailbox`` per active email account of every tenant."""
    from deskconfig.accounts import ChannelAccount
    from deskconfig.kinds import ChannelKind
    from helpdesk.tenancy import bypass_context

    with bypass_context():
        accounts = list(
            ChannelAccount.objects.filter(
                kind=ChannelKind.EMAIL,
                active=True,
                reconnect_reason="",  # the server refused the login: not retried every minute
                settings__has_key="imap_host",
            ).values_list("tenant_id", "pk")
        )
    for tenant_id, account_id in accounts:
        poll_mailbox.delay(tenant_id, account_id)
    return len(accounts)


# Celery discovers ``<app>.tasks`` modules only: the Meta webhook task registers from here.
from channels_conn.meta.tasks import process_meta_event, sweep_meta_events  # noqa: E402

__all__ = ["poll_all_mailboxes", "poll_mailbox", "process_meta_event", "sweep_meta_events"]
