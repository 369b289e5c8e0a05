"""The X part of an account's page on the Channels page: its reading state and the events
that could not be filed, with Reintentar."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from channels_conn.twitter.models import TwitterEvent, TwitterState
from channels_conn.twitter.poll import failed_events_retry
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role


def x_extras(account: ChannelAccount) -> dict[str, Any]:
    if account.kind != ChannelKind.TWITTER:
        return {}
    failed = TwitterEvent.objects.filter(account=account, status=TwitterEvent.Status.FAILED)
    return {
        "x_state": TwitterState.objects.filter(account=account).first(),
        "x_failed": list(failed.order_by("-created_at", "-id")[:20]),
    }


@role_required(Role.ADMIN)
@require_POST
def channel_x_retry(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ChannelAccount.objects.all(), pk=pk, kind=ChannelKind.TWITTER)
    result = failed_events_retry(account)
    if result.failed:
        messages.error(
            request, _("%(n)s evento(s) de X volvieron a fallar.") % {"n": result.failed}
        )
    else:
        messages.success(request, _("Eventos de X archivados en sus tickets."))
    return redirect(reverse("admin_config:channels_edit", args=[pk]) + "#x-failed")
