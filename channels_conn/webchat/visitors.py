"""Who a web chat visitor is: a random id in a signed cookie, one per account."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse

from helpdesk.identity import normalize_email

if TYPE_CHECKING:
    from channels_conn.models import ChannelAccount
    from tickets.models import Customer

COOKIE_MAX_AGE = 365 * 24 * 3600
SALT = "helpdesk.webchat.visitor"


def cookie_name(account_uuid: str) -> str:
    return f"hdchat_{str(account_uuid).replace('-', '')[:12]}"


def read_visitor(cookies: dict[str, str], account_uuid: str) -> str | None:
    """The visitor id from the signed cookie, or None when absent or tampered with."""
    raw = cookies.get(cookie_name(account_uuid))
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=SALT, max_age=COOKIE_MAX_AGE)
    except signing.BadSignature:
        return None
    return str(value) if isinstance(value, str) and value.startswith("v-") else None


def new_visitor() -> str:
    return "v-" + secrets.token_hex(12)


def remember(response: HttpResponse, request: HttpRequest, account_uuid: str, visitor: str) -> None:
    # SameSite=None so the widget's iframe on the tenant's site keeps the cookie (HTTPS only
    # outside development).
    secure = request.is_secure()
    response.set_cookie(
        cookie_name(account_uuid),
        signing.dumps(visitor, salt=SALT),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        secure=secure,
        samesite="None" if secure else "Lax",
    )


def visitor_group(account_id: int, visitor: str) -> str:
    return f"chat-{account_id}-{visitor}"


def visitor_email_valid(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return len(email) <= 254


def visitor_contact_set(*, customer: Customer, email: str) -> None:
    """Keep the email a visitor typed as the customer's unverified contact address.

    Anyone can type anyone's address into a public chat. Were it an identity, mail later sent
    from that address would be filed on the visitor's customer, under the visitor's chosen
    name. So it never merges anything: an agent who trusts it links it (link-identity)."""
    from tickets.models import Customer

    Customer.objects.filter(pk=customer.pk).update(contact_email=normalize_email(email))
    customer.contact_email = normalize_email(email)


def chat_ticket_announce(
    account: ChannelAccount, visitor: str, *, ticket_id: int, name: str
) -> None:
    """Tell the visitor's open sockets which ticket their typing belongs to now."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            visitor_group(account.pk, visitor),
            {"type": "chat.ticket", "ticket": ticket_id, "name": name},
        )
