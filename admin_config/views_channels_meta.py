"""The Meta parts of a WhatsApp, Facebook or Instagram account's page: the callback URL and
verify token to paste into Meta, «Probar conexión» (one Graph call), «Sincronizar plantillas»
(WhatsApp) and the webhook entries that failed, with «Reintentar»."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from channels_conn.meta.graph import GraphError
from channels_conn.meta.models import MetaWebhookEvent
from channels_conn.meta.probe import probe_meta
from channels_conn.meta.services import event_retry
from channels_conn.models import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.reconnect import account_reconnect_cleared
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role

META_KINDS = {ChannelKind.WHATSAPP, ChannelKind.FACEBOOK, ChannelKind.INSTAGRAM}
FAILED_SHOWN = 50
NOTICES_SHOWN = 5


def meta_extras(request: AuthedRequest, account: ChannelAccount) -> dict[str, Any]:
    """What the account page shows for a Meta account (nothing for other kinds)."""
    if account.kind not in META_KINDS:
        return {}
    failed = MetaWebhookEvent.objects.filter(account=account, status=MetaWebhookEvent.Status.FAILED)
    return {
        "meta": {
            "callback_url": request.build_absolute_uri(reverse("channels_conn:meta_webhook")),
            "verify_token": settings.META_VERIFY_TOKEN,
            "notices": _notices(account),
            "failed_count": failed.count(),
            "failed": list(failed.order_by("-created_at", "-id")[:FAILED_SHOWN]),
        }
    }


def _notices(account: ChannelAccount) -> list[dict[str, Any]]:
    """Meta's latest notes about the account (``value.errors``), with their times parsed so
    the page shows them in the tenant's time zone."""
    shown = []
    for notice in list((account.settings or {}).get("notices") or [])[:NOTICES_SHOWN]:
        at = parse_datetime(str(notice.get("at") or ""))
        shown.append({"at": at, "text": str(notice.get("text") or "")})
    return shown


def _meta_account_or_404(pk: int) -> ChannelAccount:
    account: ChannelAccount = get_object_or_404(ChannelAccount.objects.all(), pk=pk)
    if account.kind not in META_KINDS:
        raise Http404
    return account


def _back(pk: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("admin_config:channels_edit", args=[pk]) + anchor)


@role_required(Role.ADMIN)
@require_POST
def channel_meta_probe(request: AuthedRequest, pk: int) -> HttpResponse:
    account = _meta_account_or_404(pk)
    result = probe_meta(account)
    if result.ok:  # Meta accepts the stored token again
        account_reconnect_cleared(account=account, actor=request.user)
    (messages.success if result.ok else messages.error)(
        request, f"{result.service}: {result.message}"
    )
    return _back(pk)


@role_required(Role.ADMIN)
@require_POST
def channel_templates_sync(request: AuthedRequest, pk: int) -> HttpResponse:
    from channels_conn.meta.probe import _explain
    from channels_conn.whatsapp.template_sync import templates_sync

    account = _meta_account_or_404(pk)
    if account.kind != ChannelKind.WHATSAPP:
        raise Http404
    try:
        result = templates_sync(account=account)
    except GraphError as exc:
        messages.error(
            request, _("No se pudieron leer las plantillas: %(why)s") % {"why": _explain(exc)}
        )
    else:
        messages.success(
            request,
            _("Plantillas sincronizadas: %(new)s nuevas, %(updated)s actualizadas.")
            % {"new": result.created, "updated": result.updated},
        )
    return _back(pk)


@role_required(Role.ADMIN)
@require_POST
def channel_meta_event_retry(request: AuthedRequest, pk: int, event_id: int) -> HttpResponse:
    account = _meta_account_or_404(pk)
    event = get_object_or_404(
        MetaWebhookEvent.objects.select_related("account"), pk=event_id, account=account
    )
    event = event_retry(event)
    if event.status == MetaWebhookEvent.Status.PROCESSED:
        messages.success(request, _("Evento procesado: sus mensajes ya están en sus tickets."))
    else:
        messages.error(
            request, _("El evento volvió a fallar: %(error)s") % {"error": event.error[:300]}
        )
    return _back(pk, "#meta-failed")
