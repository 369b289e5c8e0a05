"""The state of a batch of Meta webhook events being filed (:mod:`channels_conn.meta.batch`).

The batch runs the channels' receiving code inside one transaction. While it does, a
customer's message handed to :func:`channels_conn.meta.inbound.receive` is collected to be
filed with the others in one set-based step, anything that reads or changes what those
messages create (a reaction, an edit, an echo) first files what was collected, and a Graph call
(a media download, a profile lookup) is refused with :class:`NeedsNetwork`: no network inside a
transaction, so that event is filed one by one after the commit. Outside a batch nothing here
changes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deskconfig.accounts import ChannelAccount
    from tickets.services import Inbound


class NeedsNetwork(Exception):
    """The event needs Graph (media, a name): it leaves the batch for the one-by-one path."""


@dataclass
class Pending:
    """A customer's message collected by the batch, with the event it came from."""

    event_id: int
    account: ChannelAccount
    inbound: Inbound
    extra: dict[str, Any]
    post_id: str


@dataclass
class Collector:
    flush: Callable[[], None]
    event_id: int = 0
    items: list[Pending] = field(default_factory=list)


_current: ContextVar[Collector | None] = ContextVar("meta_batch_collector", default=None)


def current() -> Collector | None:
    return _current.get()


def activate(collector: Collector | None) -> Any:
    """Make ``collector`` the current one; returns the token for :func:`deactivate`."""
    return _current.set(collector)


def deactivate(token: Any) -> None:
    _current.reset(token)


def network_check() -> None:
    """Refuse a network call while a batch transaction is open."""
    if _current.get() is not None:
        raise NeedsNetwork


def flush_pending() -> None:
    """File what the batch collected so far (before something that may depend on it)."""
    collector = _current.get()
    if collector is not None and collector.items:
        collector.flush()
