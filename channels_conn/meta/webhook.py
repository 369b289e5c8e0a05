"""A signed delivery to the Meta callback, decided and stored: the one implementation behind
both ways in (the Django view, and :mod:`channels_conn.meta.asgi`, which production's POSTs
take without Django's request stack).

The body is verified on its raw bytes, split into entries, each entry routed to the account its
id names and stored in that account's tenant; the answer goes at once (Meta wants it within
seconds) and the processing runs in a task. Bad signature: 401, nothing stored. Signed but not
JSON: 400, the body kept for the operators. Ids no account has: 200 and a log line (otherwise
Meta retries for days).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from typing import NamedTuple

from django.conf import settings

from channels_conn.meta.models import MetaRejectedWebhook
from channels_conn.meta.routing import Routed, own_secret, route
from channels_conn.meta.services import event_store
from channels_conn.meta.signature import signed_by
from helpdesk.tenancy import tenant_context

log = logging.getLogger(__name__)


class Answer(NamedTuple):
    status: int
    body: bytes = b""


RECEIVED = Answer(200, b"EVENT_RECEIVED")
BAD_SIGNATURE = Answer(401)
NOT_JSON = Answer(400)


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


def deliver(body: bytes, signature: str) -> Answer:
    """Verify, route and store one POST of Meta's; the answer to give."""
    platform_ok = signed_by(body, signature, settings.META_APP_SECRET)
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except ValueError:
        if platform_ok:
            MetaRejectedWebhook.objects.create(raw=body, reason="JSON inválido")
            log.warning("Meta webhook: signed body is not JSON (%s bytes kept)", len(body))
            return NOT_JSON
        _bad_signature_log.warning("Meta webhook: bad signature on a non-JSON body")
        return BAD_SIGNATURE
    routing = route(payload)
    accepted = [r for r in routing.routed if _signed_for(r, body, signature, platform_ok)]
    if not platform_ok and not accepted:
        _bad_signature_log.warning("Meta webhook: bad signature (%s bytes)", len(body))
        return BAD_SIGNATURE
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
    return RECEIVED


def _signed_for(routed: Routed, body: bytes, signature: str, platform_ok: bool) -> bool:
    """An account with its own Meta app accepts only its app's signature; the others, the
    platform's."""
    secret = own_secret(routed.account)
    return signed_by(body, signature, secret) if secret else platform_ok
