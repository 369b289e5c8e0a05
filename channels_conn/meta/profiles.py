"""The names of Messenger and Instagram customers: their webhooks carry only an id (PSID,
IGSID), so a new customer's name is asked of Graph with the page token
(``GET /{psid}?fields=first_name,last_name``; Instagram ``name,username``).

Looked up once: a name found is kept in this process and in the shared cache, and a customer
we already know by name is never looked up again, so a conversation costs no Graph call per
message. A failed lookup never holds up the message: the customer keeps the placeholder
(«Cliente sin nombre»), the next message after a pause tries again, and a task retries within
the hour (:func:`profile_refresh`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction

from channels_conn.meta import graph
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from tickets import live
from tickets.identities import normalize_identity
from tickets.models import IDENTITY_OF_CHANNEL, Customer, CustomerIdentity, TicketStatus

log = logging.getLogger(__name__)

FIELDS = {
    ChannelKind.FACEBOOK: "first_name,last_name",
    ChannelKind.INSTAGRAM: "name,username",
}
NAME_SECONDS = 7 * 24 * 3600
FAILURE_PAUSE_SECONDS = 10 * 60
LOCAL_SIZE = 20_000

_local: OrderedDict[str, str] = OrderedDict()


def _key(account: ChannelAccount, user_id: str) -> str:
    # The account's random uuid (not its id) so no other database's rows can meet these keys.
    return f"meta-profile:{account.uuid}:{user_id}"


def _remember(key: str, name: str) -> None:
    _local[key] = name
    _local.move_to_end(key)
    while len(_local) > LOCAL_SIZE:
        _local.popitem(last=False)


def page_token(account: ChannelAccount) -> str:
    creds: dict[str, Any] = account.credentials if isinstance(account.credentials, dict) else {}
    return str(creds.get("page_access_token") or creds.get("access_token") or "")


def name_of(answer: dict[str, Any]) -> str:
    """The person's name in a Graph profile answer ("" when it has none)."""
    full = " ".join(str(answer.get(k) or "").strip() for k in ("first_name", "last_name"))
    return (full.strip() or str(answer.get("name") or answer.get("username") or "")).strip()[:200]


def lookup(account: ChannelAccount, user_id: str) -> str:
    """Ask Graph for the name (raises ``GraphError``)."""
    answer = graph.call(
        "GET",
        f"/{user_id}",
        token=page_token(account),
        params={"fields": FIELDS[ChannelKind(account.kind)]},
    )
    return name_of(answer)


def _known_name(account: ChannelAccount, user_id: str) -> str:
    kind = IDENTITY_OF_CHANNEL[account.kind]
    found = (
        CustomerIdentity.objects.filter(kind=kind, value=normalize_identity(kind, user_id))
        .values_list("customer__name", flat=True)
        .first()
    )
    return str(found or "")


@dataclass(frozen=True)
class Sender:
    name: str  # "" when unknown for now
    failed: bool = False  # Graph was asked just now and failed: retry once the message is in


def sender_name(account: ChannelAccount, user_id: str) -> Sender:
    """The name to give the customer behind ``user_id``. Network: call it outside any
    transaction."""
    if account.kind not in FIELDS or not user_id:
        return Sender("")
    key = _key(account, user_id)
    if key in _local:
        return Sender(_local[key])
    cached = cache.get(key)
    if cached:
        _remember(key, str(cached))
        return Sender(str(cached))
    known = _known_name(account, user_id)
    if known:
        _remember(key, known)
        return Sender(known)
    if cache.get(f"{key}:failed"):
        return Sender("")  # asked a moment ago; the retry task or a later message will
    try:
        name = lookup(account, user_id)
    except graph.GraphError as exc:
        log.info("Meta profile of a %s customer not read: %s", account.kind, exc)
        name = ""
    if not name:
        cache.set(f"{key}:failed", 1, FAILURE_PAUSE_SECONDS)
        return Sender("", failed=True)
    cache.set(key, name, NAME_SECONDS)
    _remember(key, name)
    return Sender(name)


def profile_retry_later(account: ChannelAccount, user_id: str) -> None:
    """Ask again in a minute (the customer, stored meanwhile, then gets the name)."""
    from channels_conn.meta.tasks import PROFILE_FIRST_COUNTDOWN, refresh_meta_profile

    tenant_id, account_id = account.tenant_id, account.pk
    transaction.on_commit(
        lambda: refresh_meta_profile.apply_async(
            (tenant_id, account_id, user_id), countdown=PROFILE_FIRST_COUNTDOWN
        )
    )


def profile_refresh(*, account: ChannelAccount, user_id: str) -> str:
    """Look the name up again and give it to the customer if they still have none; their open
    tickets' cards and pages show it at once. Raises ``GraphError`` (the task retries)."""
    name = lookup(account, user_id)
    if not name:
        return ""
    key = _key(account, user_id)
    cache.set(key, name, NAME_SECONDS)
    cache.delete(f"{key}:failed")
    _remember(key, name)
    kind = IDENTITY_OF_CHANNEL[account.kind]
    with transaction.atomic():
        customer = (
            Customer.objects.select_for_update(of=("self",))
            .filter(identities__kind=kind, identities__value=normalize_identity(kind, user_id))
            .first()
        )
        if customer is None or customer.name:
            return name
        customer.name = name
        customer.save(update_fields=["name"])
        for ticket in customer.tickets.filter(status=TicketStatus.OPEN):
            live.ticket_changed(ticket)
    return name
