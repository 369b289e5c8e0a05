"""The inbox's live matching: a ticket event in, out-of-band swaps for this person's columns.

Everything needed is loaded once when the socket opens (the columns and the person's open
tickets); an event costs no database query: the snapshot is matched in memory against each
column's filter and the card HTML, rendered once by the publisher, is reused.

Delivery (``InboxHub``): each process receives an inbox event ONCE from the channel layer and
hands it to its open inboxes of that tenant in memory. Joined to the tenant's group one by
one, every socket had its own copy delivered through channels_redis's per-channel receive
(several asyncio tasks per socket and message): with 500 sockets in a process that
bookkeeping, not the matching, was most of the fan-out time."""

from __future__ import annotations

import asyncio
import collections
import datetime
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.html import escape

from tickets.cards import fill_card
from tickets.filters import MessageFilter, TicketFilter
from tickets.live import inbox_group

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PostFilter:
    """A scheduled-post column's filter over a post's snapshot (as tickets.inbox lists it:
    scheduled posts of the chosen channels and accounts)."""

    channels: frozenset[str] = frozenset()
    accounts: frozenset[int] = frozenset()

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> PostFilter:
        d = data or {}
        return cls(
            channels=frozenset(str(c) for c in d.get("channels") or ()),
            accounts=frozenset(int(a) for a in d.get("accounts") or ()),
        )

    def matches(self, s: dict[str, Any]) -> bool:
        return (
            s["status"] == "scheduled"
            and (not self.channels or s["channel"] in self.channels)
            and (not self.accounts or s["account_id"] in self.accounts)
        )


@dataclass(frozen=True)
class LiveColumn:
    pk: int
    kind: str
    ticket_filter: TicketFilter | None
    message_filter: MessageFilter | None
    alert: bool  # sound or desktop notification on new customer messages
    post_filter: PostFilter | None = None


@dataclass
class InboxState:
    columns: list[LiveColumn]
    mine: dict[int, tuple[bool, bool]]  # my open tickets: id -> (addressed, awaiting)


def load_state(user_id: int) -> InboxState:
    """Runs once per connection, in the tenant context."""
    from helpdesk.models import User
    from tickets.inbox import message_filter, my_open_tickets, ticket_filter
    from tickets.models import Column, ColumnKind

    user = User.objects.select_related("tenant").get(pk=user_id)
    columns = []
    for c in Column.objects.filter(user=user).order_by("position", "id"):
        columns.append(
            LiveColumn(
                pk=c.pk,
                kind=c.kind,
                ticket_filter=ticket_filter(c, user) if c.kind == ColumnKind.TICKETS else None,
                message_filter=message_filter(c, user) if c.kind == ColumnKind.MESSAGES else None,
                alert=c.sound or c.desktop_notify,
                post_filter=(
                    PostFilter.from_data(c.filters) if c.kind == ColumnKind.SCHEDULED else None
                ),
            )
        )
    return InboxState(columns=columns, mine=my_open_tickets(user))


def ticket_swaps(state: InboxState, event: dict[str, Any], now: datetime.datetime) -> str:
    """The swaps one ticket event makes in this person's columns."""
    s = event["snapshot"]
    card = event.get("card") or []
    fresh = event.get("reason") == "customer_message"
    out = []
    # Remove the card wherever it is; put it back in place where it still matches.
    drop = [f"c{col.pk}-t{s['id']}" for col in state.columns if col.ticket_filter is not None]
    if drop:
        out.append(drop_swap(drop))
    for col in state.columns:
        if col.ticket_filter is None:
            continue
        if col.ticket_filter.matches(s, now):
            alert = ("ring" if col.alert else "new") if fresh else ""
            body = fill_card(card, col=col.pk, alert=alert)
            # The page puts the card in its place by the column's order (static/js/inbox.js).
            out.append(f'<div hx-swap-oob="afterbegin:#col-{col.pk}-cards">{body}</div>')
    return "".join(out)


def drop_swap(card_ids: list[str]) -> str:
    """Cards to take off the page, wherever they are. One element into the page's #inbox-drop
    (static/js/inbox.js removes them): an out-of-band delete per card would log an htmx error
    for every column that does not show it, i.e. on nearly every live update."""
    ids = " ".join(card_ids)
    return f'<div hx-swap-oob="beforeend:#inbox-drop"><i data-drop="{ids}"></i></div>'


def message_swaps(state: InboxState, event: dict[str, Any]) -> str:
    """A new message's card goes on top of every message column it matches."""
    s = event["snapshot"]
    card = event.get("card") or []
    out = []
    for col in state.columns:
        if col.message_filter is not None and col.message_filter.matches(s):
            body = fill_card(card, col=col.pk)
            out.append(f'<div hx-swap-oob="afterbegin:#col-{col.pk}-cards">{body}</div>')
    return "".join(out)


def post_swaps(state: InboxState, event: dict[str, Any]) -> str:
    """A scheduled post added, changed or no longer scheduled: its card leaves every
    scheduled-post column and comes back where it still matches (the page orders it)."""
    s = event["snapshot"]
    card = event.get("card") or []
    out = []
    drop = [f"c{col.pk}-p{s['id']}" for col in state.columns if col.post_filter is not None]
    if drop:
        out.append(drop_swap(drop))
    for col in state.columns:
        if col.post_filter is None:
            continue
        if col.post_filter.matches(s):
            body = fill_card(card, col=col.pk)
            out.append(f'<div hx-swap-oob="afterbegin:#col-{col.pk}-cards">{body}</div>')
    return "".join(out)


def metrics_swap(state: InboxState, event: dict[str, Any], user_id: int) -> str:
    """Update my counters from the snapshot; '' when they did not change."""
    s = event["snapshot"]
    before = _counts(state.mine)
    mine = s["assignee_id"] == user_id and s["status"] == "open" and s["merged_into_id"] is None
    if mine:
        state.mine[s["id"]] = (bool(s["addressed"]), bool(s["awaiting_response"]))
    else:
        state.mine.pop(s["id"], None)
    after = _counts(state.mine)
    if after == before:
        return ""
    return "".join(
        f'<b id="metric-{name}" hx-swap-oob="true">{escape(value)}</b>'
        for name, value in zip(("open", "addressed", "waiting"), after, strict=True)
    )


def _counts(mine: dict[int, tuple[bool, bool]]) -> tuple[int, int, int]:
    return (
        len(mine),
        sum(1 for addressed, _w in mine.values() if addressed),
        sum(1 for _a, waiting in mine.values() if waiting),
    )


def inbox_frame(
    state: InboxState, event: dict[str, Any], user_id: int, now: datetime.datetime
) -> str:
    """Everything one inbox event changes on this person's page ('' when nothing)."""
    if event.get("event") == "ticket":
        return ticket_swaps(state, event, now) + metrics_swap(state, event, user_id)
    if event.get("event") == "message" and "snapshot" in event:
        return message_swaps(state, event)
    if event.get("event") == "post":
        return post_swaps(state, event)
    return ""


class InboxHub:
    """The open inboxes of one tenant in this process (one event loop), fed from one channel
    of the layer joined to the tenant's inbox group. A consumer joins when its socket opens,
    starts once its columns are loaded and leaves when its socket closes (held weakly too: a
    consumer that vanished without leaving, or whose send fails, is dropped). A hub that
    cannot receive (the layer unreachable) keeps trying."""

    REFRESH_SECONDS = 3600.0  # re-join the group at least this often ...
    # How long the events this process received are kept, for the pages rendered meanwhile:
    # a page is rendered, then opens its socket (a second, more under load); what changed
    # in between is replayed to it. Some slack for the clocks of two processes.
    RECENT_SECONDS = 120.0
    CLOCK_SLACK_SECONDS = 2.0

    def __init__(self, layer: Any, tenant_id: int) -> None:
        self.layer = layer
        self.group = inbox_group(tenant_id)
        self.consumers: weakref.WeakSet[Any] = weakref.WeakSet()
        # Events that arrived while a consumer was loading its columns, replayed by start().
        self.pending: weakref.WeakKeyDictionary[Any, list[dict[str, Any]]] = (
            weakref.WeakKeyDictionary()
        )
        self.channel = ""
        self.task: asyncio.Task[None] | None = None
        self.ready: asyncio.Future[None] | None = None
        self.recent: collections.deque[tuple[float, dict[str, Any]]] = collections.deque()

    async def join(self, consumer: Any, *, since: float | None = None) -> None:
        """Returns once the hub receives the tenant's events; until ``start`` gives the
        consumer its state, its events are kept (none is missed while the columns load).
        ``since``: when the page was rendered (epoch seconds); what this process received
        after it is replayed too (nothing is missed between the page and its socket)."""
        self.pending[consumer] = []
        self.consumers.add(consumer)
        if self.task is None or self.ready is None or self.task.done():
            loop = asyncio.get_running_loop()
            self.ready = loop.create_future()
            self.task = loop.create_task(self._run(self.ready))
        await asyncio.shield(self.ready)
        if since is not None:
            kept = self.pending.setdefault(consumer, [])
            seen = {id(event) for event in kept}
            after = since - self.CLOCK_SLACK_SECONDS
            missed = [e for at, e in self.recent if at >= after and id(e) not in seen]
            kept[:0] = missed  # in the order received, before what came during the join

    async def start(self, consumer: Any, state: InboxState) -> None:
        """The consumer's columns are loaded: apply what arrived meanwhile (replaying an event
        the loaded state already reflects changes nothing), then deliver live."""
        consumer.state = state
        events = self.pending.pop(consumer, [])
        now = timezone.now()
        html = "".join(inbox_frame(state, event, consumer.user_id, now) for event in events)
        if html:
            await consumer.send(text_data=html)

    async def leave(self, consumer: Any) -> None:
        self.consumers.discard(consumer)
        self.pending.pop(consumer, None)
        if not self.consumers and self.task is not None:
            task, channel, self.task, self.ready = self.task, self.channel, None, None
            task.cancel()
            if channel:
                await self.layer.group_discard(self.group, channel)

    async def _run(self, ready: asyncio.Future[None]) -> None:
        try:
            channel = self.channel = await self.layer.new_channel()
            await self.layer.group_add(self.group, channel)
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise
        self.recent.clear()  # a new subscription: what came before it is not all here
        ready.set_result(None)
        refresher = asyncio.ensure_future(self._refresh(channel))
        try:
            while True:
                try:
                    event = await self.layer.receive(channel)
                except Exception:  # the layer unreachable: keep trying, as consumers do
                    logger.exception("inbox hub could not receive")
                    await asyncio.sleep(1)
                    continue
                try:
                    await self.deliver(event)
                except Exception:  # one bad event must not stop the tenant's live inbox
                    logger.exception("inbox event not delivered")
        finally:
            refresher.cancel()

    def refresh_seconds(self) -> float:
        """... and well within the layer's group expiry (channels_redis: a day by default)."""
        expiry = float(getattr(self.layer, "group_expiry", 86400) or 86400)
        return min(self.REFRESH_SECONDS, expiry / 4)

    async def _refresh(self, channel: str) -> None:
        """Keep the channel in the group on a clock. A group forgets a member added longer
        than its expiry ago however many events it delivers, so re-joining only after an idle
        hour let a busy tenant's hub drop out after a day and every inbox here went deaf. And
        never by interrupting receive(): channels_redis drops what a cancelled receive had
        buffered."""
        while True:
            await asyncio.sleep(self.refresh_seconds())
            try:
                await self.layer.group_add(self.group, channel)
            except Exception:  # the layer unreachable: the next turn tries again
                logger.warning("inbox hub could not refresh its group", exc_info=True)

    async def deliver(self, event: dict[str, Any]) -> None:
        """Match the event for every inbox here (in memory), then send the frames at once."""
        now = timezone.now()
        received = time.time()
        self.recent.append((received, event))
        while self.recent and self.recent[0][0] < received - self.RECENT_SECONDS:
            self.recent.popleft()
        frames = []
        for consumer in list(self.consumers):
            if consumer.state is None:
                self.pending.setdefault(consumer, []).append(event)
                continue
            html = inbox_frame(consumer.state, event, consumer.user_id, now)
            if html:
                frames.append((consumer, html))
        results = await asyncio.gather(
            *(consumer.send(text_data=html) for consumer, html in frames),
            return_exceptions=True,
        )
        for (consumer, _html), result in zip(frames, results, strict=True):
            if isinstance(result, Exception):
                self.consumers.discard(consumer)  # its socket is gone


_HUBS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, InboxHub]] = (
    weakref.WeakKeyDictionary()
)


def inbox_hub(layer: Any, tenant_id: int) -> InboxHub:
    """This event loop's hub of the tenant."""
    hubs = _HUBS.setdefault(asyncio.get_running_loop(), {})
    hub = hubs.get(tenant_id)
    if hub is None or hub.layer is not layer:
        hub = hubs[tenant_id] = InboxHub(layer, tenant_id)
    return hub
