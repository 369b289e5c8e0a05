"""The column inbox: recommended flows, columns as their owner's only, pinned query counts,
keyset pages, and the live matching that needs no database."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import client_for
from tickets import columns as column_services
from tickets import services
from tickets.consumers_inbox import load_state, metrics_swap, ticket_swaps
from tickets.inbox import PAGE, column_next_page, inbox_columns, ticket_filter
from tickets.live import render_card, ticket_snapshot
from tickets.models import Column, Ticket

pytestmark = pytest.mark.django_db


def _account(tenant, kind="whatsapp"):
    with tenant_context(tenant.pk):
        return ChannelAccount.objects.create(tenant=tenant, kind=kind, name=kind, sla_minutes=60)


def _dropped(html: str) -> set[str]:
    """The card ids a frame takes off the page (tickets.consumers_inbox.drop_swap)."""

    return {i for ids in re.findall(r'data-drop="([^"]*)"', html) for i in ids.split()}


def _receive(account, identity, text="hola"):
    with tenant_context(account.tenant_id):
        return services.message_receive(
            account=account, inbound=services.Inbound(identity=identity, text=text)
        ).message.ticket


def test_an_agent_without_columns_gets_the_recommended_three(cast):
    page = client_for(cast.agent).get("/inbox/").content.decode()
    with tenant_context(cast.tenant_a.pk):
        names = list(Column.objects.filter(user=cast.agent).values_list("name", flat=True))
    assert names == ["Nuevos", "Abordados / respondidos", "En espera"]
    for name in names:
        assert name in page
    assert 'id="metric-open"' in page and "/ws/inbox/?inbox=1" in page


def test_an_admin_gets_the_supervisor_flow_and_flows_are_one_click(cast):
    client = client_for(cast.admin)
    client.get("/inbox/")
    with tenant_context(cast.tenant_a.pk):
        assert Column.objects.filter(user=cast.admin).count() == 4
    client.post("/inbox/columns/flow/", {"flow": "four"})
    with tenant_context(cast.tenant_a.pk):
        names = list(Column.objects.filter(user=cast.admin).values_list("name", flat=True))
    assert names[0] == "Sin asignar" and len(names) == 4
    client.post("/inbox/columns/flow/", {"flow": ""})  # restore recommended
    with tenant_context(cast.tenant_a.pk):
        assert Column.objects.filter(user=cast.admin).first().name == "Sin asignar"


def test_the_inbox_query_count_does_not_grow_with_columns_or_cards(cast):
    account = _account(cast.tenant_a)
    client = client_for(cast.agent)
    client.get("/inbox/")  # creates the three recommended columns
    first = _receive(account, "+56900000001")
    with tenant_context(cast.tenant_a.pk):
        services.ticket_assign(ticket=first, assignee=cast.agent, actor=cast.admin)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/inbox/").status_code == 200
    for i in range(70):
        ticket = _receive(account, f"+5691234{i:04d}")
        with tenant_context(cast.tenant_a.pk):
            services.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.admin)
    with tenant_context(cast.tenant_a.pk):
        for preset in column_services.supervisor_flow() + column_services.agent_flow()[:1]:
            column_services.column_save(
                user=cast.agent,
                column=None,
                name=preset.name,
                kind="tickets",
                filters=preset.filters,
                sort=preset.sort,
                sound=False,
                desktop_notify=False,
            )
    with CaptureQueriesContext(connection) as many:
        response = client.get("/inbox/")
    body = response.content.decode()
    assert body.count('class="column"') == 8
    assert body.count("data-open-ticket") >= PAGE  # full first pages
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_a_column_pages_by_keyset_without_overlap(cast):
    account = _account(cast.tenant_a)
    base = timezone.now() - datetime.timedelta(hours=2)
    for i in range(PAGE + 12):
        ticket = _receive(account, f"+5698765{i:04d}")
        with bypass_context():  # spread the activity times, some equal
            Ticket.all_tenants.filter(pk=ticket.pk).update(
                updated_at=base + datetime.timedelta(minutes=i // 3)
            )
    with tenant_context(cast.tenant_a.pk):
        column = Column.objects.create(
            tenant=cast.tenant_a, user=cast.agent, name="Todo", filters={"status": ["open"]}
        )
        agent = type(cast.agent).objects.select_related("tenant").get(pk=cast.agent.pk)
        first = inbox_columns(agent)[0]
        second = column_next_page(column, agent, first.next_cursor)
    assert len(first.items) == PAGE and first.next_cursor
    assert len(second.items) == 12 and not second.next_cursor
    seen = [t.pk for t in first.items] + [t.pk for t in second.items]
    assert len(set(seen)) == PAGE + 12
    client = client_for(cast.agent)
    page = client.get(f"/inbox/columns/{column.pk}/page/", {"after": first.next_cursor})
    assert page.content.decode().count("data-open-ticket") == 12


@pytest.mark.django_db(transaction=True)
def test_column_listing_uses_an_index(cast):
    account = _account(cast.tenant_a)
    with tenant_context(cast.tenant_a.pk):
        customer = _receive(account, "+56955555555").customer
        Ticket.objects.bulk_create(
            Ticket(
                tenant=cast.tenant_a,
                number=1000 + i,
                customer=customer,
                account=account,
                assignee=cast.agent if i % 2 else cast.admin,
                status="open" if i % 3 else "closed",
            )
            for i in range(400)
        )
    _analyze_tickets()
    with tenant_context(cast.tenant_a.pk):
        column = Column.objects.create(
            tenant=cast.tenant_a,
            user=cast.agent,
            name="Míos",
            filters={"assignee": {"mode": "me"}, "status": ["open"]},
        )
        agent = type(cast.agent).objects.select_related("tenant").get(pk=cast.agent.pk)
        qs = Ticket.objects.filter(ticket_filter(column, agent).to_q()).order_by(
            "-updated_at", "-id"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = qs[:50].explain()
    assert "Index" in plan and "ticket_assignee_updated" in plan, plan


def test_columns_belong_to_their_owner(cast):
    with tenant_context(cast.tenant_a.pk):
        column = Column.objects.create(tenant=cast.tenant_a, user=cast.agent, name="Mía")
    for user in (cast.admin, cast.outsider):  # a colleague, and another tenant's user
        client = client_for(user)
        assert client.get(f"/inbox/columns/{column.pk}/").status_code == 404
        assert client.get(f"/inbox/columns/{column.pk}/page/").status_code == 404
        assert client.post(f"/inbox/columns/{column.pk}/delete/").status_code == 404
        assert client.post(f"/inbox/columns/{column.pk}/move/").status_code == 404
    with tenant_context(cast.tenant_a.pk):
        assert Column.objects.filter(pk=column.pk).exists()


def test_create_edit_reorder_and_delete_columns(cast):
    client = client_for(cast.agent)
    client.get("/inbox/")
    response = client.post(
        "/inbox/columns/new/",
        {
            "name": "WhatsApp urgentes",
            "kind": "tickets",
            "sort": "waiting",
            "channels": "whatsapp",
            "status": "open",
            "important": "1",
            "sound": "on",
            "assignee_mode": "",
        },
    )
    assert response.status_code == 302
    with tenant_context(cast.tenant_a.pk):
        column = Column.objects.get(name="WhatsApp urgentes")
    assert column.filters == {"channels": ["whatsapp"], "status": ["open"], "important": True}
    assert column.sort == "waiting" and column.sound
    bad = client.post("/inbox/columns/new/", {"name": "", "kind": "tickets"})
    assert bad.status_code == 200 and "error" in bad.content.decode()
    with tenant_context(cast.tenant_a.pk):
        ids = list(Column.objects.filter(user=cast.agent).values_list("pk", flat=True))
    client.post("/inbox/columns/order/", {"order": json.dumps(list(reversed(ids)))})
    with tenant_context(cast.tenant_a.pk):
        assert list(Column.objects.filter(user=cast.agent).values_list("pk", flat=True)) == list(
            reversed(ids)
        )
    client.post(f"/inbox/columns/{column.pk}/move/", {"direction": "right"})
    with tenant_context(cast.tenant_a.pk):
        assert (
            list(Column.objects.filter(user=cast.agent).values_list("pk", flat=True))[1]
            == column.pk
        )
    client.post(f"/inbox/columns/{column.pk}/delete/")
    with tenant_context(cast.tenant_a.pk):
        assert not Column.objects.filter(pk=column.pk).exists()


def test_live_matching_moves_cards_and_counts_without_queries(cast):
    account = _account(cast.tenant_a)
    with tenant_context(cast.tenant_a.pk):
        column_services.columns_apply_flow(user=cast.agent)
        state = load_state(cast.agent.pk)
        new, addressed, waiting = state.columns
    ticket = _receive(account, "+56911112222", "¿Hola?")
    with tenant_context(cast.tenant_a.pk):
        services.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.admin)
        fresh = Ticket.objects.select_related("account", "assignee", "customer", "tenant").get(
            pk=ticket.pk
        )
        event = json.loads(
            json.dumps(  # events travel as JSON
                {
                    "snapshot": ticket_snapshot(fresh),
                    "card": render_card(fresh),
                    "reason": "customer_message",
                }
            )
        )
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        html = ticket_swaps(state, event, now)
        counters = metrics_swap(state, event, cast.agent.pk)
    assert len(queries) == 0
    assert f"afterbegin:#col-{new.pk}-cards" in html
    assert f"afterbegin:#col-{waiting.pk}-cards" in html
    assert f"afterbegin:#col-{addressed.pk}-cards" not in html
    assert f"c{addressed.pk}-t{ticket.pk}" in _dropped(html)
    assert 'id="metric-open" hx-swap-oob="true">1</b>' in counters
    assert 'id="metric-waiting" hx-swap-oob="true">1</b>' in counters

    with tenant_context(cast.tenant_a.pk):
        services.message_send(ticket=ticket, author=cast.agent, text="Hola, ¿en qué te ayudo?")
        fresh = Ticket.objects.select_related("account", "assignee", "customer", "tenant").get(
            pk=ticket.pk
        )
        event = {"snapshot": ticket_snapshot(fresh), "card": render_card(fresh), "reason": ""}
    html = ticket_swaps(state, event, now)
    assert f"afterbegin:#col-{addressed.pk}-cards" in html
    assert f"afterbegin:#col-{new.pk}-cards" not in html
    assert f"afterbegin:#col-{waiting.pk}-cards" not in html
    assert 'data-alert="new"' not in html and 'data-alert="ring"' not in html
    counters = metrics_swap(state, event, cast.agent.pk)
    assert 'id="metric-addressed" hx-swap-oob="true">1</b>' in counters
    assert 'id="metric-waiting" hx-swap-oob="true">0</b>' in counters


def test_what_a_customer_writes_never_fills_a_cards_slots(cast):
    """The live card's column and alert slots are cut from the template, not searched for in
    the card: a customer who writes the slots' old placeholders sees them as text."""
    from tickets.cards import CardRenderer
    from tickets.consumers_inbox import message_swaps
    from tickets.live import message_snapshot
    from tickets.models import Customer
    from tickets.queries import message_for_push

    account = _account(cast.tenant_a)
    written = "__ALERT__ y __COL__ {col} {alert}"
    ticket = _receive(account, "+56911113333", written)
    with tenant_context(cast.tenant_a.pk):
        Customer.objects.filter(pk=ticket.customer_id).update(name="__COL__")
        services.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.admin)
        column_services.columns_apply_flow(user=cast.agent)
        messages = Column.objects.create(
            tenant=cast.tenant_a, user=cast.agent, name="Mensajes", kind="messages", filters={}
        )
        state = load_state(cast.agent.pk)
        new = next(c for c in state.columns if c.ticket_filter is not None)  # «Nuevos»
        fresh = Ticket.objects.select_related("account", "assignee", "customer", "tenant").get(
            pk=ticket.pk
        )
        event = json.loads(
            json.dumps(
                {
                    "snapshot": ticket_snapshot(fresh),
                    "card": render_card(fresh),
                    "reason": "customer_message",
                }
            )
        )
        message = fresh.messages.get()
        message_event = json.loads(
            json.dumps(
                {
                    "snapshot": message_snapshot(message_for_push(message.pk)),
                    "card": CardRenderer().message_live(message_for_push(message.pk)),
                }
            )
        )
    html = ticket_swaps(state, event, timezone.now())
    assert f'id="c{new.pk}-t{ticket.pk}"' in html and 'data-alert="new"' in html
    assert '<strong class="tcard-name">__COL__</strong>' in html
    assert f'<span class="tcard-preview">{written}</span>' in html
    html = message_swaps(state, message_event)
    assert f'id="c{messages.pk}-m{message.pk}"' in html
    assert f'<span class="tcard-preview">{written}</span>' in html


def test_message_columns_get_new_messages_live(cast):
    from tickets.consumers_inbox import message_swaps
    from tickets.live import message_snapshot
    from tickets.queries import message_for_push

    account = _account(cast.tenant_a, kind="twitter")
    with tenant_context(cast.tenant_a.pk):
        mentions = Column.objects.create(
            tenant=cast.tenant_a,
            user=cast.agent,
            name="Menciones",
            kind="messages",
            filters={"mention": True, "channels": ["twitter"]},
        )
        dms = Column.objects.create(
            tenant=cast.tenant_a,
            user=cast.agent,
            name="Privados",
            kind="messages",
            filters={"public": False},
        )
        state = load_state(cast.agent.pk)
        message = services.message_receive(
            account=account,
            inbound=services.Inbound(
                identity="@ana", text="@tienda hola", is_public=True, is_mention=True
            ),
        ).message
        event = json.loads(
            json.dumps(
                {
                    "snapshot": message_snapshot(message_for_push(message.pk)),
                    "card": ["<p>", "col", "</p>"],  # a live card: text, slot, text
                }
            )
        )
    html = message_swaps(state, event)
    assert f"afterbegin:#col-{mentions.pk}-cards" in html and f"<p>{mentions.pk}</p>" in html
    assert f"#col-{dms.pk}-cards" not in html
    page = client_for(cast.agent).get("/inbox/").content.decode()
    assert "@tienda hola" in page  # and the first page lists it too


def _fill_inbox(cast, account, n=PAGE + 5):
    """n tickets of the agent, a message column and a scheduled-post column beside the three
    recommended ticket columns."""
    from tickets.models import ScheduledPost

    client = client_for(cast.agent)
    client.get("/inbox/")  # the recommended columns
    for i in range(n):
        ticket = _receive(account, f"+5697000{i:04d}", f"mensaje {i}")
        with tenant_context(cast.tenant_a.pk):
            services.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.admin)
    with tenant_context(cast.tenant_a.pk):
        column_services.column_save(
            user=cast.agent,
            column=None,
            name="Mensajes",
            kind="messages",
            filters={},
            sort="updated",
            sound=False,
            desktop_notify=False,
        )
        column_services.column_save(
            user=cast.agent,
            column=None,
            name="Programados",
            kind="scheduled",
            filters={},
            sort="updated",
            sound=False,
            desktop_notify=False,
        )
        ScheduledPost.objects.create(
            account=account, text="Oferta", publish_at=timezone.now() + datetime.timedelta(days=1)
        )
    return client


def test_the_inbox_page_and_a_next_page_run_a_pinned_number_of_queries(cast):
    """Pinned, not just constant: a card that reads a field its list does not load would cost
    one query per card and show here at once."""
    client = _fill_inbox(cast, _account(cast.tenant_a))
    client.get("/inbox/")
    with CaptureQueriesContext(connection) as page:
        body = client.get("/inbox/").content.decode()
    assert body.count("<article") > 2 * PAGE  # tickets, messages and the post
    # session, user, tenant context switches (4), the columns (2: columns_ensure, listing),
    # tickets (UNION, fetch, their customers), messages (UNION, fetch, customers), posts
    # (UNION, fetch), metrics, the bell's count.
    assert len(page) == 18, [q["sql"][:100] for q in page.captured_queries]
    with tenant_context(cast.tenant_a.pk):
        column = Column.objects.get(user=cast.agent, name="Nuevos")
    after = body.split(f"/inbox/columns/{column.pk}/page/?after=")[1].split('"')[0]
    after = after.replace("&amp;", "&")
    from urllib.parse import unquote

    with CaptureQueriesContext(connection) as more:
        rest = client.get(f"/inbox/columns/{column.pk}/page/", {"after": unquote(after)})
    assert rest.content.decode().count("<article") == 5
    # session, user, tenant context switches (4), the column, one keyset page (with its
    # customers).
    assert len(more) == 8, [q["sql"][:100] for q in more.captured_queries]


def test_cards_escape_what_customers_write_and_speak_the_readers_language(cast):
    from django.utils import translation

    from tickets.cards import CardRenderer

    account = _account(cast.tenant_a)
    ticket = _receive(account, "+56970001111", '<img src=x onerror="alert(1)"> & hola')
    with tenant_context(cast.tenant_a.pk):
        ticket.customer.name = "<b>Ana</b>"
        ticket.customer.save()
        ticket = Ticket.objects.select_related("account", "assignee", "customer").get(pk=ticket.pk)
    with translation.override("es"):
        card = CardRenderer().ticket(ticket, 7)
    assert "&lt;b&gt;Ana&lt;/b&gt;" in card and "<b>Ana" not in card
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; hola" in card
    assert 'id="c7-t' in card and "Sin asignar" in card and 'class="sla-chip ok">A tiempo<' in card
    with translation.override("en"):
        card = CardRenderer().ticket(ticket, 7)
    assert "Unassigned" in card and ">On time<" in card


def _analyze_tickets() -> None:
    """Fresh statistics (as the tables' owner): with those of an empty table the planner
    picks any index for a query on a handful of rows."""
    from helpdesk.dbroles import as_owner

    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")


@pytest.mark.django_db(transaction=True)
def test_the_at_risk_columns_read_the_running_clocks_index(cast):
    """Sorted by waiting time, an "at risk" column would otherwise walk every waiting ticket
    from the longest (long breached) wait."""
    from tickets.models import Customer

    account = _account(cast.tenant_a)
    now = timezone.now()
    with tenant_context(cast.tenant_a.pk):
        customer = Customer.objects.create(name="Ana")
        Ticket.objects.bulk_create(
            Ticket(
                tenant=cast.tenant_a,
                number=2000 + i,
                customer=customer,
                account=account,
                status="open",
                awaiting_response=True,
                waiting_since=now - datetime.timedelta(minutes=i),
                sla_due_at=now + datetime.timedelta(minutes=60 - i),
                sla_risk_at=now + datetime.timedelta(minutes=45 - i),
                sla_breached=i > 60,
            )
            for i in range(300)
        )
    _analyze_tickets()
    with tenant_context(cast.tenant_a.pk):
        agent = type(cast.agent).objects.select_related("tenant").get(pk=cast.agent.pk)
        plans = {}
        for sort in ("waiting", "updated"):
            column = Column(
                tenant=cast.tenant_a,
                user=agent,
                name="En riesgo",
                filters={"status": ["open"], "sla": ["risk"]},
                sort=sort,
            )
            qs = Ticket.objects.filter(ticket_filter(column, agent).to_q()).order_by(
                *ticket_filter(column, agent).order_by()
            )
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_bitmapscan = off")
                plans[sort] = qs[:50].explain()
    for plan in plans.values():  # an index of the running clocks only (this small table may
        # use ticket_sla_due, of the unflagged ones, as well); never all waiting/open tickets
        assert "ticket_sla_running" in plan or "ticket_sla_due" in plan, plan
        assert "ticket_waiting" not in plan and "ticket_status_updated" not in plan, plan
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ticket_sla_running%%'"
        )
        assert {row[0] for row in cursor.fetchall()} == {
            "ticket_sla_running",
            "ticket_sla_running_updated",
        }


def test_scheduled_post_columns_follow_posts_live(cast, monkeypatch):
    from tickets.consumers_inbox import inbox_frame
    from tickets.live import post_snapshot
    from tickets.models import ScheduledPost

    twitter = _account(cast.tenant_a, kind="twitter")
    facebook = _account(cast.tenant_a, kind="facebook")
    with tenant_context(cast.tenant_a.pk):
        tweets = Column.objects.create(
            tenant=cast.tenant_a,
            user=cast.agent,
            name="Tweets",
            kind="scheduled",
            filters={"channels": ["twitter"]},
        )
        everything = Column.objects.create(
            tenant=cast.tenant_a, user=cast.agent, name="Todo", kind="scheduled"
        )
        state = load_state(cast.agent.pk)
        post = ScheduledPost.objects.create(
            account=facebook,
            text="Cyber <b>day</b>",
            publish_at=timezone.now() + datetime.timedelta(hours=3),
            created_by=cast.agent,
        )
        post = ScheduledPost.objects.select_related("account", "created_by").get(pk=post.pk)

    import tickets.live as live

    published = []
    monkeypatch.setattr(live, "publish", lambda group, event: published.append((group, event)))
    with tenant_context(cast.tenant_a.pk):
        live.publish_post(post.pk)
    group, event = published[0]
    assert group == f"inbox-{cast.tenant_a.pk}" and event["event"] == "post"
    event = json.loads(json.dumps(event))  # events travel as JSON
    with CaptureQueriesContext(connection) as queries:
        html = inbox_frame(state, event, cast.agent.pk, timezone.now())
    assert len(queries) == 0
    assert f"afterbegin:#col-{everything.pk}-cards" in html
    assert f"afterbegin:#col-{tweets.pk}-cards" not in html  # a Facebook post
    assert f'id="c{everything.pk}-p{post.pk}"' in html and "Cyber &lt;b&gt;day" in html
    assert 'data-publish="' in html

    with tenant_context(cast.tenant_a.pk):
        post.account, post.status = twitter, ScheduledPost.Status.SCHEDULED
        moved = {**event, "snapshot": post_snapshot(post)}
        post.status = ScheduledPost.Status.PUBLISHED
        done = {**event, "snapshot": post_snapshot(post)}
    assert f"afterbegin:#col-{tweets.pk}-cards" in inbox_frame(
        state, moved, cast.agent.pk, timezone.now()
    )
    gone = inbox_frame(state, done, cast.agent.pk, timezone.now())
    assert "afterbegin" not in gone and f"c{tweets.pk}-p{post.pk}" in _dropped(gone)
