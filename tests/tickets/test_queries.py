"""The reads behind the ticket page: the thread's pages and the history."""

from __future__ import annotations

import datetime

import pytest

from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import receive
from tickets import queries, services
from tickets.models import EventKind

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2025, 1, 6, 10, 0, tzinfo=datetime.UTC)


def test_the_thread_pages_backwards_through_merged_tickets(account, in_a):
    other = ChannelAccountFactory(tenant=in_a.tenant_a)
    total = queries.THREAD_PAGE + 5
    for i in range(total):
        # Two messages share each timestamp: the id breaks the tie.
        at = T0 + datetime.timedelta(minutes=i // 2)
        receive(account if i % 3 else other, text=f"m{i:02}", received_at=at)
    target = receive(account, text="último", received_at=T0 + datetime.timedelta(days=1))
    target = target.message.ticket
    (source,) = queries.previous_tickets(target)
    services.ticket_merge(source=source, target=target, actor=in_a.agent)

    page, more = queries.thread(target)
    older, more_after = queries.thread(target, before_id=page[0].pk)

    texts = [m.text for m in older + page]
    assert texts == [f"m{i:02}" for i in range(total)] + ["último"]
    assert (len(page), more) == (queries.THREAD_PAGE, True)
    assert more_after is False


def test_the_history_is_newest_first(account, in_a):
    ticket = receive(account).message.ticket
    services.ticket_mark_important(ticket=ticket, actor=in_a.agent)
    services.ticket_close(ticket=ticket, actor=in_a.agent)
    assert [e.kind for e in queries.history(ticket)] == [
        EventKind.STATUS,
        EventKind.IMPORTANT,
        EventKind.MESSAGE_IN,
        EventKind.CREATED,
    ]


def test_mergeable_tickets_are_the_customers_unmerged_others(account, in_a):
    first = receive(account).message.ticket
    other = ChannelAccountFactory(tenant=in_a.tenant_a)
    second = receive(other).message.ticket
    receive(account, identity="otro@example.test")
    assert queries.mergeable_tickets(first) == [second]
    services.ticket_merge(source=second, target=first, actor=in_a.agent)
    assert queries.mergeable_tickets(first) == []
