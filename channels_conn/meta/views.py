"""The one Meta callback, ``/webhooks/meta/``: the verification handshake (GET) and the signed
deliveries (POST) of WhatsApp, Facebook pages and Instagram.

A POST is verified on its raw bytes, split into entries, each entry routed to the account its id
names and stored in that account's tenant; the answer goes at once (Meta wants it within
seconds) and the processing runs in a task. Bad signature: 401, nothing stored. Signed but not
JSON: 400, the body kept for the operators. Ids no account has: 200 and a log line (otherwise
Meta retries for days).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from channels_conn.meta.files import file_for_link
from channels_conn.meta.models import MetaRejectedWebhook
from channels_conn.meta.routing import Routed, own_secret, route, verify_tokens
from channels_conn.meta.services import event_store
from channels_conn.meta.signature import HEADER, signed_by
from helpdesk.tenancy import tenant_context

log = logging.getLogger(__name__)


class _RateLimitedLog:
    """At most one line per ``every`` seconds, with how many were silenced (an attacker
    posting junk must not flood the logs)."""

    def __init__(self, every: float = 10.0) -> None:
        self.every, self.last, self.silenced = every, 0.0, 0

    def warning(self, text: str, *args: object) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            self.silenced += 1
            return
        silenced, self.silenced, self.last = self.silenced, 0, now
        log.warning(text + " (%s more silenced)", *args, silenced)


_bad_signature_log = _RateLimitedLog()


@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request)
    return _delivery(request)


def _handshake(request: HttpRequest) -> HttpResponse:
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if mode == "subscribe" and token and _known_verify_token(token):
        return HttpResponse(challenge, content_type="text/plain")
    return HttpResponse(status=403)


def _known_verify_token(token: str) -> bool:
    platform = settings.META_VERIFY_TOKEN
    if platform and constant_time_compare(token, platform):
        return True
    return any(constant_time_compare(token, t) for t in verify_tokens())


def _delivery(request: HttpRequest) -> HttpResponse:
    body = request.body
    header = request.META.get(HEADER, "")
    platform_ok = signed_by(body, header, settings.META_APP_SECRET)
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except ValueError:
        if platform_ok:
            MetaRejectedWebhook.objects.create(raw=body, reason="JSON inválido")
            log.warning("Meta webhook: signed body is not JSON (%s bytes kept)", len(body))
            return HttpResponse(status=400)
        _bad_signature_log.warning("Meta webhook: bad signature on a non-JSON body")
        return HttpResponse(status=401)
    routing = route(payload)
    accepted = [r for r in routing.routed if _signed_for(r, body, header, platform_ok)]
    if not platform_ok and not accepted:
        _bad_signature_log.warning("Meta webhook: bad signature (%s bytes)", len(body))
        return HttpResponse(status=401)
    obj = str(payload.get("object"))
    by_tenant: dict[int, list[Routed]] = defaultdict(list)
    for routed in accepted:
        by_tenant[routed.account.tenant_id].append(routed)
    # One tenant context per tenant named (usually one): the answer does the INSERTs only.
    for tenant_id, entries in by_tenant.items():
        with tenant_context(tenant_id):
            for routed in entries:
                event_store(account=routed.account, obj=obj, entry=routed.entry)
    refused = len(routing.routed) - len(accepted)
    if routing.unknown or refused:
        log.info(
            "Meta webhook: dropped entries for unknown ids %s, %s signed with another app",
            routing.unknown[:10],
            refused,
        )
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


def _signed_for(routed: Routed, body: bytes, header: str, platform_ok: bool) -> bool:
    """An account with its own Meta app accepts only its app's signature; the others, the
    platform's."""
    secret = own_secret(routed.account)
    return signed_by(body, header, secret) if secret else platform_ok


@require_GET
def meta_file(request: HttpRequest, token: str) -> FileResponse:
    """A file we send to Instagram, fetched by Meta through its signed, expiring link."""
    attachment = file_for_link(token)
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
