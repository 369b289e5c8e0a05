"""The Celery task of the Meta webhooks: ids in, ``event_process`` does the work."""

from __future__ import annotations

from typing import Any

from helpdesk.celery import TenantTask, app

RETRIES = 3


@app.task(base=TenantTask, bind=True, acks_late=True, ignore_result=True, max_retries=RETRIES)
def process_meta_event(self: Any, tenant_id: int, event_id: int) -> str | None:
    """Process one stored entry; a passing Graph failure (a media download) is retried with
    backoff, and after the last try the event stays failed with its error for the admins."""
    from channels_conn.meta.graph import GraphError
    from channels_conn.meta.models import MetaWebhookEvent
    from channels_conn.meta.services import event_process

    # The account's secrets are read only when used (a media download, a profile lookup):
    # a text message costs no decryption.
    event = (
        MetaWebhookEvent.objects.select_related("account")
        .defer("account__credentials")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return None
    last_try = self.request.retries >= RETRIES
    try:
        return str(event_process(event, raise_transient=not last_try).status)
    except GraphError as exc:
        raise self.retry(exc=exc, countdown=5 * 4**self.request.retries) from None


PROFILE_RETRIES = 3
PROFILE_FIRST_COUNTDOWN = 60


@app.task(
    base=TenantTask, bind=True, acks_late=True, ignore_result=True, max_retries=PROFILE_RETRIES
)
def refresh_meta_profile(self: Any, tenant_id: int, account_id: int, user_id: str) -> str:
    """A customer's name Graph could not give at first contact, asked again after a minute;
    passing failures after 5 and 25 more (all under the broker's visibility timeout), then
    it is left for the customer's next message."""
    from channels_conn.meta.graph import GraphError
    from channels_conn.meta.profiles import profile_refresh
    from deskconfig.accounts import ChannelAccount

    account = ChannelAccount.objects.filter(pk=account_id).first()
    if account is None:
        return ""
    try:
        return profile_refresh(account=account, user_id=user_id)
    except GraphError as exc:
        # A refusal (no permission to read the profile, a blocked user) will not change:
        # the customer keeps the placeholder and the next message asks again.
        if not exc.transient or self.request.retries >= PROFILE_RETRIES:
            return ""
        countdown = PROFILE_FIRST_COUNTDOWN * 5 ** (self.request.retries + 1)
        raise self.retry(exc=exc, countdown=countdown) from None
