"""The one Meta callback, ``/webhooks/meta/``: the verification handshake (GET) and the signed
deliveries (POST) of WhatsApp, Facebook pages and Instagram (decided in
:mod:`channels_conn.meta.webhook`; production's POSTs reach it through
:mod:`channels_conn.meta.asgi` without Django's request stack), and the files Meta fetches.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from channels_conn.meta.files import file_for_link
from channels_conn.meta.routing import verify_tokens
from channels_conn.meta.signature import HEADER
from channels_conn.meta.webhook import deliver


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
    answer = deliver(request.body, request.META.get(HEADER, ""))
    return HttpResponse(answer.body, status=answer.status, content_type="text/plain")


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
