"""Meta's POSTs to ``/webhooks/meta/`` answered without Django's request stack.

Meta posts every message, status and comment of every tenant to this one URL, and wants each
answered within seconds; a busy WhatsApp number sends hundreds a second. Through Django's
stack (a request object, a dozen middleware, a thread and a new database connection per
request) one answer cost about 13 ms of CPU and held a connection slot; here the same
:func:`~channels_conn.meta.webhook.deliver` runs on a few threads of its own that keep their
database connections, and the event loop only reads the body and writes the answer.

Only a POST to exactly that path, for an allowed host, over a scheme Django would not redirect,
takes this way; everything else (the handshake, the files, a wrong host) goes on to Django,
which answers it as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import Error as DatabaseError
from django.db import connection
from django.http.request import split_domain_port, validate_host

from channels_conn.meta.webhook import Answer, deliver

log = logging.getLogger(__name__)

PATH = "/webhooks/meta/"
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOO_LARGE = Answer(400, b"Request body too large")
FAILED = Answer(500)


class MetaWebhookFastPath:
    """ASGI middleware: Meta's deliveries here, every other request to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._executor: ThreadPoolExecutor | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _ours(scope):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if body is None:
            return  # the client went away before the body was complete: nothing to answer
        if isinstance(body, Answer):
            log.warning("Meta webhook: body over DATA_UPLOAD_MAX_MEMORY_SIZE refused")
            answer = body
        else:
            signature = _header(scope, b"x-hub-signature-256")
            # Run in the thread's own context, not a copy of this one: Django keeps its cache
            # clients per context, and a fresh one per call opened a Redis connection per call.
            # (``deliver`` enters the tenant's context itself and leaves it as it found it.)
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(
                self.executor(), deliver_on_thread, bytes(body), signature
            )
        await _answer(send, answer)

    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=settings.META_WEBHOOK_THREADS, thread_name_prefix="meta-webhook"
            )
        return self._executor


def deliver_on_thread(body: bytes, signature: str) -> Answer:
    """:func:`deliver` on one of the fast path's threads, whose database connection stays
    open between answers. A connection the server ended (a restart, a failover) is closed
    and the delivery tried once more on a new one: storing is idempotent, so a second try
    never duplicates an entry; any other failure answers 500 and Meta delivers again later."""
    for attempt in (1, 2):
        try:
            return deliver(body, signature)
        except DatabaseError:
            usable = connection.connection is not None and connection.is_usable()
            connection.close()
            if usable or attempt == 2:
                log.exception("Meta webhook: the delivery could not be stored")
                return FAILED
        except Exception:
            log.exception("Meta webhook: the delivery failed")
            return FAILED
    return FAILED  # pragma: no cover - the loop returns


def _ours(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
        return False
    if settings.SECURE_SSL_REDIRECT and scope.get("scheme") != "https":
        return False  # Django's SecurityMiddleware redirects it
    if settings.USE_X_FORWARDED_HOST:
        return False  # Django reads the host from another header: its own check decides
    return _host_allowed(_header(scope, b"host"))


def _host_allowed(host: str) -> bool:
    """Django's ``get_host`` check (a wrong host is left to Django, which answers 400)."""
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


async def _read_body(receive: Receive, limit: int | None) -> bytearray | Answer | None:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if limit is not None and len(body) > limit:
            await _drain(receive, message)
            return TOO_LARGE
        if not message.get("more_body"):
            return body


async def _drain(receive: Receive, message: Mapping[str, Any]) -> None:
    """Read the rest of a refused body, so the connection can answer."""
    while message.get("more_body"):
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _answer(send: Send, answer: Answer) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(answer.body)).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": answer.body})
