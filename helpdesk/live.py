"""Publishing to the browsers of one tenant (or one user) over the channel layer."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def tenant_group(tenant_id: int) -> str:
    return f"tenant-{tenant_id}"


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


_outbox = threading.local()


def publish(group: str, event: dict[str, Any]) -> None:
    """Send one event to a group. Call it from ``transaction.on_commit`` in services.
    Inside :func:`collecting` the event waits for the block's end instead."""
    pending: list[tuple[str, dict[str, Any]]] | None = getattr(_outbox, "events", None)
    if pending is not None:
        pending.append((group, event))
        return
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(group, {"type": "push", **event})


@contextmanager
def collecting() -> Iterator[None]:
    """Publish every event of the block at its end, in order, over one event-loop round trip
    (a batch of received mail pushes hundreds; one ``async_to_sync`` each costs a thread)."""
    if getattr(_outbox, "events", None) is not None:
        yield  # nested: the outer block sends
        return
    _outbox.events = []
    try:
        yield
    finally:
        events, _outbox.events = _outbox.events, None
        _send_all(events)


def _send_all(events: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not events:
        return

    async def send() -> None:
        for group, event in events:
            await layer.group_send(group, {"type": "push", **event})

    try:
        async_to_sync(send)()
    except Exception:  # best effort, as each push is: the changes are committed
        log.exception("publishing %d events failed", len(events))


def end_user_sockets(user_id: int) -> None:
    """Close every open socket of a person (deactivated: what is open must not keep
    receiving). Call it from ``transaction.on_commit``."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(user_group(user_id), {"type": "session.end"})
