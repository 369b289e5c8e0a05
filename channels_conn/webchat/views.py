"""The public side of the web chat: the chat page, sending a message, and the widget script.

No login here: the visitor is known by a signed cookie. The account (and so the tenant) comes
from the account's UUID in the URL, looked up once; everything else runs in that tenant."""

from __future__ import annotations

import uuid as uuidlib
import zoneinfo
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from channels_conn.webchat import presence
from channels_conn.webchat.visitors import (
    chat_ticket_announce,
    new_visitor,
    read_visitor,
    remember,
    visitor_contact_set,
    visitor_email_valid,
)
from deskconfig import business_hours
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from helpdesk.middleware import content_security_policy
from helpdesk.tenancy import bypass_context, tenant_context
from tickets import services
from tickets.models import CustomerIdentity, IdentityKind, Message

MAX_TEXT = 2000
PER_MINUTE_VISITOR = 20
PER_MINUTE_IP = 60


def _account(account_uuid: Any) -> ChannelAccount:
    try:
        key = uuidlib.UUID(str(account_uuid))
    except ValueError:
        raise Http404 from None
    with bypass_context():
        account = (
            ChannelAccount.all_tenants.select_related("tenant")
            .filter(uuid=key, kind=ChannelKind.WEBCHAT, active=True)
            .first()
        )
    if account is None:
        raise Http404
    return account


def _allowed_origins(account: ChannelAccount) -> list[str]:
    return [o.rstrip("/") for o in account.settings.get("allowed_origins", []) if o]


def _csp_for(request: HttpRequest, account: ChannelAccount) -> str:
    """Our CSP, but the chat may be framed by the sites the admin allowed."""
    ancestors = " ".join(["'self'", *_allowed_origins(account)])
    return content_security_policy(request, frame_ancestors=ancestors)


def _origin_ok(request: HttpRequest, account: ChannelAccount) -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return True  # same-origin form posts from older browsers carry none
    own = f"{urlsplit(origin).scheme}://{request.get_host()}"
    return origin.rstrip("/") in {own, *_allowed_origins(account)}


def _over_limit(key: str, limit: int) -> bool:
    cache.add(key, 0, 60)
    try:
        return int(cache.incr(key)) > limit
    except ValueError:
        return False


def _history(account: ChannelAccount, visitor: str | None) -> tuple[list[Message], str]:
    if not visitor:
        return [], ""
    identity = (
        CustomerIdentity.objects.select_related("customer")
        .filter(kind=IdentityKind.WEBCHAT, value=visitor)
        .first()
    )
    if identity is None:
        return [], ""
    messages = list(
        Message.objects.filter(ticket__customer=identity.customer, ticket__account=account)
        .select_related("author")
        .order_by("-created_at", "-id")[:50]
    )
    messages.reverse()
    return messages, identity.customer.name


def _page(
    request: HttpRequest, account: ChannelAccount, visitor: str | None = None, **extra: Any
) -> HttpResponse:
    visitor = visitor or read_visitor(request.COOKIES, str(account.uuid))
    with tenant_context(account.tenant_id):
        messages, name = _history(account, visitor)
        schedule = business_hours.schedule_for(account)
        closed = schedule is not None and not business_hours.is_open(schedule, timezone.now())
    context = {
        "account": account,
        "messages": messages,
        "name": name,
        "closed": closed,
        "available": not closed and presence.anyone_available(account.tenant_id),
        "embed": request.GET.get("embed") == "1",
        "max_text": MAX_TEXT,
        **extra,
    }
    with timezone.override(zoneinfo.ZoneInfo(account.tenant.time_zone)):
        response = render(request, "channels_conn/chat.html", context)
    response["Content-Security-Policy"] = _csp_for(request, account)
    return response


@require_GET
@xframe_options_exempt
def chat_page(request: HttpRequest, account_uuid: str) -> HttpResponse:
    """A new visitor gets their id right away, so the live socket is open before they write."""
    account = _account(account_uuid)
    visitor = read_visitor(request.COOKIES, str(account.uuid))
    response = _page(request, account, visitor)
    if visitor is None:
        remember(response, request, str(account.uuid), new_visitor())
    return response


@require_POST
@csrf_exempt  # a third-party site frames this page; the origin check and the cookie guard it
@xframe_options_exempt
def chat_send(request: HttpRequest, account_uuid: str) -> HttpResponse:
    account = _account(account_uuid)
    if not _origin_ok(request, account):
        return HttpResponse(_("Este sitio no puede usar este chat."), status=403)
    text = (request.POST.get("text") or "").strip()
    name = (request.POST.get("name") or "").strip()[:100]
    error = ""
    if not text:
        error = _("Escribe un mensaje.")
    elif len(text) > MAX_TEXT:
        error = _("El mensaje es muy largo (máximo %(n)s caracteres).") % {"n": MAX_TEXT}
    email = (request.POST.get("email") or "").strip()
    if not error and email and not visitor_email_valid(email):
        error = _("«%(email)s» no es un correo válido.") % {"email": email[:100]}
    visitor = read_visitor(request.COOKIES, str(account.uuid)) or new_visitor()
    ip = request.META.get("REMOTE_ADDR", "")
    if not error and (
        _over_limit(f"chat:rate:v:{account.pk}:{visitor}", PER_MINUTE_VISITOR)
        or _over_limit(f"chat:rate:ip:{account.pk}:{ip}", PER_MINUTE_IP)
    ):
        error = _("Estás enviando mensajes muy rápido. Espera un momento.")
    if not error:
        try:
            _receive(account, visitor, text, name, email)
        except ValidationError as exc:
            error = " ".join(str(m) for m in exc.messages)
    if request.headers.get("HX-Request"):
        response = _page(request, account, visitor, error=error, draft=text if error else "")
    else:
        response = redirect(
            request.path.replace("/send/", "/")
            + ("?embed=1" if request.GET.get("embed") == "1" else "")
        )
    remember(response, request, str(account.uuid), visitor)
    return response


def _receive(account: ChannelAccount, visitor: str, text: str, name: str, email: str) -> None:
    with tenant_context(account.tenant_id):
        received = services.message_receive(
            account=account,
            inbound=services.Inbound(
                identity=visitor,
                text=text,
                customer_name=name,
                provider_id=f"wcin-{uuidlib.uuid4().hex}",
            ),
        )
        ticket = received.message.ticket
        customer = ticket.customer
        if email:
            # Unverified: kept as contact data, never an identity (see visitor_contact_set).
            visitor_contact_set(customer=customer, email=email)
    # The visitor's open socket forwards typing to this ticket from now on, with no query.
    chat_ticket_announce(account, visitor, ticket_id=ticket.pk, name=customer.name)


@require_GET
def widget_js(request: HttpRequest, account_uuid: str) -> HttpResponse:
    account = _account(account_uuid)
    chat_url = request.build_absolute_uri(f"/chat/{account.uuid}/?embed=1")
    body = render(request, "channels_conn/widget.js", {"chat_url": chat_url, "account": account})
    response = HttpResponse(body.content, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response
