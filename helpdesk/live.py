"""Publishing to the browsers of one tenant (or one user) over the channel layer."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def tenant_group(tenant_id: int) -> str:
    return f"tenant-{tenant_id}"


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def publish(group: str, event: dict[str, Any]) -> None:
    """Send one event to a group. Call it from ``transaction.on_commit`` in services."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(group, {"type": "push", **event})


def end_user_sockets(user_id: int) -> None:
    """Close every open socket of a person (deactivated: what is open must not keep
    receiving). Call it from ``transaction.on_commit``."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(user_group(user_id), {"type": "session.end"})
