"""What the Meta channels do to tickets beyond ``message_receive``: the message's extras
(stored in the same transaction, so the live push already shows them), reactions on an
earlier message, edits and removals of comments, and messages sent from Meta's own inbox.

No network here: media is downloaded before these run. Inside a batch of webhook events
(``channels_conn.meta.batch``) :func:`receive` collects the message to be filed with the others,
and the functions that look messages up first file what was collected."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from channels_conn.meta import collect
from channels_conn.meta.services import info_merge
from deskconfig.accounts import ChannelAccount
from tickets import live
from tickets import services as tickets
from tickets.models import AuthorKind, DeliveryStatus, Direction, Message


def receive(
    *,
    account: ChannelAccount,
    inbound: tickets.Inbound,
    extra: dict[str, Any] | None = None,
    post_id: str = "",
) -> Message | None:
    """Store a customer's message with its extras; None when it was stored already (or, in a
    batch, collected to be filed with the others)."""
    collector = collect.current()
    if collector is not None:
        collector.items.append(
            collect.Pending(collector.event_id, account, inbound, dict(extra or {}), post_id)
        )
        return None
    return receive_now(account=account, inbound=inbound, extra=extra, post_id=post_id)


def receive_now(
    *,
    account: ChannelAccount,
    inbound: tickets.Inbound,
    extra: dict[str, Any] | None = None,
    post_id: str = "",
) -> Message | None:
    """:func:`receive` at once, in its own transaction (one by one)."""
    if not extra and not post_id:
        # Nothing to add: message_receive's own transaction is enough (no savepoint).
        plain = tickets.message_receive(account=account, inbound=inbound)
        return plain.message if plain.created else None
    with transaction.atomic():
        received = tickets.message_receive(account=account, inbound=inbound)
        if received.created and (extra or post_id):
            info_merge(
                message_id=received.message.pk,
                tenant_id=account.tenant_id,
                data=extra or {},
                post_id=post_id,
            )
    return received.message if received.created else None


def _find(account: ChannelAccount, provider_id: str) -> Message | None:
    collect.flush_pending()  # the message may be one the batch collected
    return Message.objects.filter(account=account, provider_id=provider_id).first()


def reaction_set(*, account: ChannelAccount, provider_id: str, who: str, emoji: str) -> bool:
    """A reaction (``emoji``; "" removes it) of ``who`` on one of the account's messages.
    False when we don't have that message (it is then ignored)."""
    message = _find(account, provider_id)
    if message is None:
        return False
    with transaction.atomic():
        info = info_merge(message_id=message.pk, tenant_id=account.tenant_id, data={})
        reactions = dict((info.data or {}).get("reactions") or {})
        if emoji:
            reactions[who] = emoji
        else:
            reactions.pop(who, None)
        info_merge(
            message_id=message.pk, tenant_id=account.tenant_id, data={"reactions": reactions}
        )
        live.message_updated(message)
    return True


def message_edit(*, account: ChannelAccount, provider_id: str, text: str) -> bool:
    """A comment the customer edited: the message shows the new text (marked edited)."""
    message = _find(account, provider_id)
    if message is None or message.text == text:
        return message is not None
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(text=text)
        info_merge(message_id=message.pk, tenant_id=account.tenant_id, data={"edited": True})
        live.message_updated(message)
    return True


def message_removed(*, account: ChannelAccount, provider_id: str) -> bool:
    """A comment (or DM) removed on Meta: kept, shown as removed."""
    message = _find(account, provider_id)
    if message is None:
        return False
    with transaction.atomic():
        info_merge(message_id=message.pk, tenant_id=account.tenant_id, data={"removed": True})
        live.message_updated(message)
    return True


def record_sent_elsewhere(
    *,
    account: ChannelAccount,
    customer_identity: str,
    provider_id: str,
    text: str,
    at: datetime.datetime | None,
) -> Message | None:
    """A message the page sent from Meta's inbox or another app: an outgoing message on the
    customer's open ticket, «enviado desde Meta». Idempotent on the provider id; None when
    stored already or when the customer has no ticket here."""
    from tickets.identities import normalize_identity
    from tickets.models import IDENTITY_OF_CHANNEL, CustomerIdentity, Ticket, TicketStatus

    if _find(account, provider_id) is not None:
        return None
    kind = IDENTITY_OF_CHANNEL[account.kind]
    identity = CustomerIdentity.objects.filter(
        kind=kind, value=normalize_identity(kind, customer_identity)
    ).first()
    if identity is None:
        return None
    ticket = (
        Ticket.objects.filter(
            account=account, customer_id=identity.customer_id, status=TicketStatus.OPEN
        )
        .order_by("-created_at")
        .first()
    )
    if ticket is None:
        return None
    try:
        with transaction.atomic():
            message = Message.objects.create(
                tenant_id=account.tenant_id,
                ticket=ticket,
                account=account,
                direction=Direction.OUT,
                author_kind=AuthorKind.AGENT,
                text=text,
                provider_id=provider_id,
                status=DeliveryStatus.SENT,
                created_at=at or timezone.now(),
                sent_at=at or timezone.now(),
            )
            info_merge(message_id=message.pk, tenant_id=account.tenant_id, data={"from_meta": True})
            live.message_added(message)
    except IntegrityError:
        return None
    return message


def status_update(
    *, account: ChannelAccount, provider_id: str, status: str, reason: str = ""
) -> None:
    """A delivery receipt for one of our messages (unknown ids and repeated failures ignored)."""
    if (
        status == DeliveryStatus.FAILED
        and Message.objects.filter(
            account=account, provider_id=provider_id, status=DeliveryStatus.FAILED
        ).exists()
    ):
        return
    tickets.message_update_status(
        account=account, provider_id=provider_id, status=status, reason=reason
    )


NOTICES_KEPT = 20


def account_notice_add(*, account: ChannelAccount, text: str) -> None:
    """A problem Meta reported about the account itself (not about a message): kept, newest
    first, in the account's settings, where its Channels page shows it."""
    from deskconfig.accounts import ChannelAccount as Account

    with transaction.atomic():
        locked = Account.objects.select_for_update().defer("credentials").get(pk=account.pk)
        settings = dict(locked.settings or {})
        notices = [{"at": timezone.now().isoformat(), "text": text[:500]}]
        settings["notices"] = (notices + list(settings.get("notices") or []))[:NOTICES_KEPT]
        locked.settings = settings
        locked.save(update_fields=["settings"])
    account.settings = settings
