"""The assignment engine's choice, its queue and its triggers, and the assignments page."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import AssignmentMode, AssignmentRule, ConfigChange, Department
from helpdesk.models import Availability, Notification, Role
from helpdesk.tenancy import bypass_context, tenant_context
from tests.admin.assignment_helpers import assigned, assignee_of, load, person, queued
from tests.conftest import Cast, client_for
from tests.tickets.factories import BotUserFactory, ChannelAccountFactory
from tests.tickets.helpers import events, receive
from tickets import services
from tickets.models import EventKind, Ticket, TicketStatus
from workflow import assignment, presence
from workflow.skills_bot import ASKING
from workflow.tasks import drain_all_queues


@pytest.fixture
def account(in_a: Cast) -> ChannelAccount:
    return ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.EMAIL, name="Soporte")


@pytest.fixture
def tenant(in_a: Cast):
    return in_a.tenant_a


def place(ticket: Ticket) -> bool:
    return assignment.assign_now(ticket.tenant_id, ticket.pk)


# --- the choice ----------------------------------------------------------------------------


def test_the_least_loaded_eligible_person_gets_the_ticket(tenant, account):
    busy = person(tenant, accounts=[account])
    calm = person(tenant, accounts=[account])
    assigned(account, busy, 3)
    assigned(account, calm, 1)
    ticket = queued(account)

    assert place(ticket)

    assert assignee_of(ticket) == calm
    calm.refresh_from_db()
    assert calm.last_assigned_at is not None
    [event] = events(ticket, EventKind.ASSIGNED)
    assert event.actor is None and event.data["after"] == calm.pk
    assert Notification.objects.filter(user=calm, text__contains=f"#{ticket.number}").exists()


def test_ties_go_to_who_waited_longest_never_assigned_first_then_lowest_id(tenant, account):
    now = timezone.now()
    recent = person(
        tenant, accounts=[account], last_assigned_at=now - datetime.timedelta(minutes=1)
    )
    earlier = person(tenant, accounts=[account], last_assigned_at=now - datetime.timedelta(hours=1))
    never_b = person(tenant, accounts=[account])
    never_a = person(tenant, accounts=[account])
    assert never_b.pk < never_a.pk

    got = []
    for minutes in (4, 3, 2, 1):
        ticket = queued(account, minutes_ago=minutes)
        assert place(ticket)
        got.append(assignee_of(ticket))
        # Everybody equally loaded again, so only the wait decides the next one.
        Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.CLOSED)

    assert got == [never_b, never_a, earlier, recent]


def test_only_members_of_the_tickets_department(tenant, account):
    sales = Department.objects.create(tenant=tenant, name="Ventas")
    outsider = person(tenant, accounts=[account])  # less loaded, but not in Ventas
    member = person(tenant, accounts=[account], departments=[sales])
    assigned(account, member, 2)

    in_sales = queued(account, department=sales)
    anyone = queued(account)
    assert place(in_sales) and place(anyone)

    assert assignee_of(in_sales) == member
    assert assignee_of(anyone) == outsider


@pytest.mark.parametrize(
    "who",
    ["away", "disconnected", "stale", "full", "manual", "none", "no rule", "analyst", "inactive"],
)
def test_nobody_ineligible_gets_a_ticket(tenant, account, who):
    kwargs: dict[str, Any] = {
        "away": {"available": False},
        "disconnected": {"connected": False},
        "full": {"limit": 2},
        "manual": {"mode": AssignmentMode.MANUAL},
        "none": {"mode": AssignmentMode.NONE},
        "no rule": {"accounts": []},
        "analyst": {"role": Role.ANALYST},
        "inactive": {"is_active": False},
    }.get(who, {})
    user = person(tenant, **{"accounts": [account], **kwargs})
    if who == "full":
        assigned(account, user, 2)
    if who == "stale":  # sockets counted, but no heartbeat for longer than the window
        user.presence_seen_at = timezone.now() - presence.WINDOW - datetime.timedelta(seconds=1)
        user.save(update_fields=["presence_seen_at"])
    ticket = queued(account)

    assert not place(ticket)
    assert assignee_of(ticket) is None


def test_the_bot_is_never_given_a_ticket(tenant, account):
    with bypass_context():
        bot = BotUserFactory(tenant=tenant, presence_sockets=1, presence_seen_at=timezone.now())
    AssignmentRule.objects.create(
        tenant=tenant, user=bot, account=account, mode=AssignmentMode.AUTOMATIC
    )
    ticket = queued(account)
    assert not place(ticket)
    assert assignee_of(ticket) is None


def test_admins_take_tickets_too_and_other_accounts_rules_do_not_count(tenant, account):
    other = ChannelAccountFactory(tenant=tenant, kind=ChannelKind.WHATSAPP)
    person(tenant, accounts=[other])  # automatic elsewhere only
    admin = person(tenant, accounts=[account], role=Role.ADMIN)
    ticket = queued(account)
    assert place(ticket)
    assert assignee_of(ticket) == admin


def test_a_ticket_waiting_for_the_skills_bot_or_already_taken_is_left_alone(tenant, account):
    agent = person(tenant, accounts=[account])
    asking = queued(account, bot_stage=ASKING)
    taken = assigned(account, agent, 1)[0]
    closed = queued(account, status=TicketStatus.CLOSED)
    assert not place(asking) and not place(taken) and not place(closed)
    assert assignee_of(asking) is None and assignee_of(closed) is None
    assert load(agent) == 1


# --- the receiving flow and the queue ------------------------------------------------------


def test_a_received_message_is_assigned_after_the_commit(
    tenant, account, django_capture_on_commit_callbacks
):
    agent = person(tenant, accounts=[account])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = receive(account, identity="ana@example.test").message.ticket
    assert assignee_of(ticket) == agent


def test_with_nobody_eligible_it_waits_then_the_queue_drains_oldest_first(
    tenant, account, django_capture_on_commit_callbacks
):
    agent = person(tenant, accounts=[account], limit=2, connected=False)
    with django_capture_on_commit_callbacks(execute=True):
        young = receive(account, identity="young@example.test").message.ticket
    oldest = queued(account, minutes_ago=30)
    middle = queued(account, minutes_ago=10)
    assert assignee_of(young) is None

    # The agent connects: their two free slots take the two oldest.
    presence.person_connected(agent.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assignment.drain_queue(tenant.pk)
    assert [assignee_of(t) for t in (oldest, middle, young)] == [agent, agent, None]

    # They close one: the next in line is theirs.
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_close(ticket=oldest, actor=agent)
    assert assignee_of(young) == agent


def test_a_ticket_nobody_can_take_does_not_block_the_younger_ones(tenant, account):
    sales = Department.objects.create(tenant=tenant, name="Ventas")
    agent = person(tenant, accounts=[account], limit=1)
    stuck = queued(account, minutes_ago=20, department=sales)  # nobody in Ventas
    flowing = queued(account, minutes_ago=5)

    assert assignment.drain_now(tenant.pk) == 1
    assert assignee_of(stuck) is None and assignee_of(flowing) == agent


@pytest.mark.parametrize("trigger", ["available", "limit", "automatic"])
def test_becoming_eligible_drains_the_queue(
    tenant, account, django_capture_on_commit_callbacks, trigger
):
    agent = person(
        tenant,
        accounts=[] if trigger == "automatic" else [account],
        available=trigger != "available",
        limit=0 if trigger == "limit" else 5,
    )
    ticket = queued(account)
    assert not place(ticket)

    # What the other pages do (availability in the user menu, the limit on the users page)
    # and then ask for a drain; the automatic mode goes through the matrix page below.
    agent.availability = Availability.AVAILABLE
    agent.max_open_tickets = 5
    agent.save(update_fields=["availability", "max_open_tickets"])
    if trigger == "automatic":
        AssignmentRule.objects.create(
            tenant=tenant, user=agent, account=account, mode=AssignmentMode.AUTOMATIC
        )
    with django_capture_on_commit_callbacks(execute=True):
        assignment.drain_queue(tenant.pk)
    assert assignee_of(ticket) == agent


def test_a_drain_with_nobody_connected_costs_one_query(tenant, account, django_assert_num_queries):
    person(tenant, accounts=[account], connected=False)
    for minutes in range(5):
        queued(account, minutes_ago=minutes)
    # Entering and leaving the tenant's context, and the one question: anyone free?
    with django_assert_num_queries(3):
        assert assignment.drain_now(tenant.pk) == 0


def test_the_beat_catches_up_once_and_only_tenants_with_someone_connected(
    cast, tenant, account, eager_celery
):
    agent = person(tenant, accounts=[account])
    waiting = [queued(account, minutes_ago=m) for m in (3, 2, 1)]

    drain_all_queues.apply()
    drain_all_queues.apply()  # idempotent: nothing placed twice

    assert all(assignee_of(t) == agent for t in waiting)
    assert all(len(events(t, EventKind.ASSIGNED)) == 1 for t in waiting)


# --- presence ------------------------------------------------------------------------------


def test_presence_counts_sockets_and_expires_without_a_heartbeat(tenant):
    user = person(tenant, connected=False)
    presence.person_connected(user.pk)
    presence.person_connected(user.pk)
    presence.person_disconnected(user.pk)
    user.refresh_from_db()
    assert user.presence_sockets == 1 and presence.is_connected(user)

    with time_machine.travel(timezone.now() + presence.WINDOW - datetime.timedelta(seconds=5)):
        presence.person_seen(user.pk)  # the heartbeat keeps them online
    user.refresh_from_db()
    with time_machine.travel(timezone.now() + presence.WINDOW - datetime.timedelta(seconds=5)):
        assert presence.is_connected(user)
    with time_machine.travel(timezone.now() + presence.WINDOW + datetime.timedelta(minutes=5)):
        # A worker died with the socket: no heartbeat, so offline; a new connect starts at 1.
        assert not presence.is_connected(user)
        presence.person_connected(user.pk)
        user.refresh_from_db()
        assert user.presence_sockets == 1 and presence.is_connected(user)
    presence.person_disconnected(user.pk)
    presence.person_disconnected(user.pk)
    user.refresh_from_db()
    assert user.presence_sockets == 0


# --- manual assignment and the mode "none" -------------------------------------------------


def test_nobody_is_given_by_hand_a_ticket_of_an_account_whose_mode_is_none(tenant, account, cast):
    excluded = person(tenant, accounts=[account], mode=AssignmentMode.NONE, name="Nora Núñez")
    manual = person(tenant, accounts=[account], mode=AssignmentMode.MANUAL)
    ticket = queued(account)

    with pytest.raises(services.ActionRefused) as refused:
        services.ticket_assign(ticket=ticket, assignee=excluded, actor=cast.admin)
    assert "Nora Núñez no atiende la cuenta «Soporte»" in refused.value.messages[0]
    assert assignee_of(ticket) is None

    services.ticket_assign(ticket=ticket, assignee=manual, actor=cast.admin)
    assert assignee_of(ticket) == manual
    choices = assignment.assignable_users(ticket)
    assert manual in choices and excluded not in choices and cast.agent in choices


def test_the_ticket_page_leaves_out_people_whose_mode_is_none(tenant, account, cast):
    excluded = person(tenant, accounts=[account], mode=AssignmentMode.NONE, name="Nora Núñez")
    ticket = queued(account)
    page = client_for(cast.agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert f'<option value="{cast.admin.pk}"' in page
    assert f'<option value="{excluded.pk}"' not in page

    response = client_for(cast.agent).post(
        f"/tickets/{ticket.number}/do/assign/", {"assignee": excluded.pk}
    )
    assert response.status_code in (200, 302)
    assert assignee_of(ticket) is None


# --- the assignments page ------------------------------------------------------------------

URL = "/admin/assignments/"


@pytest.fixture
def board(cast, tenant, account):
    """Tenant A: two accounts of two kinds, an agent automatic on one; tenant B: its own."""
    whatsapp = ChannelAccountFactory(tenant=tenant, kind=ChannelKind.WHATSAPP, name="Ventas WA")
    ChannelAccountFactory(tenant=tenant, kind=ChannelKind.WHATSAPP, name="Apagada", active=False)
    AssignmentRule.objects.create(
        tenant=tenant, user=cast.agent, account=account, mode=AssignmentMode.AUTOMATIC
    )
    with bypass_context():
        foreign = ChannelAccountFactory(tenant=cast.tenant_b, name="Cuenta de B")
        bot = BotUserFactory(tenant=tenant)
    return {"email": account, "whatsapp": whatsapp, "foreign": foreign, "bot": bot}


def test_the_page_lists_people_by_accounts_grouped_by_channel(cast, board):
    response = client_for(cast.admin).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Correo" in page and "WhatsApp" in page and "Ventas WA" in page
    assert "Apagada" not in page and "Cuenta de B" not in page
    assert str(cast.agent) in page and str(cast.admin) in page
    assert str(cast.analyst) not in page and str(cast.outsider) not in page
    bot = board["bot"]
    assert f'name="c-{bot.pk}-' not in page and f'name="c-{cast.analyst.pk}-' not in page
    email, whatsapp = board["email"], board["whatsapp"]
    agent_auto = f'name="c-{cast.agent.pk}-{email.pk}" data-col'
    assert agent_auto in page
    assert f'<td data-mode="auto"><select name="c-{cast.agent.pk}-{email.pk}"' in page
    assert f'<td data-mode="manual"><select name="c-{cast.admin.pk}-{whatsapp.pk}"' in page
    assert 'data-bulk="col"' in page and 'data-bulk="row"' in page


def test_the_page_costs_the_same_queries_whatever_its_size(cast, tenant, board):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client_for(cast.admin).get(URL).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for _ in range(20):
        person(tenant, accounts=[board["email"], board["whatsapp"]])
    ChannelAccountFactory(tenant=tenant, kind=ChannelKind.INSTAGRAM)
    assert count() == small


def test_saving_changes_only_the_cells_sent_audits_them_and_drains(
    cast, tenant, board, django_capture_on_commit_callbacks
):
    email, whatsapp = board["email"], board["whatsapp"]
    cast.admin.presence_sockets, cast.admin.presence_seen_at = 1, timezone.now()
    cast.admin.save(update_fields=["presence_sockets", "presence_seen_at"])
    waiting = queued(whatsapp)
    AssignmentRule.objects.create(
        tenant=tenant, user=cast.admin, account=email, mode=AssignmentMode.NONE
    )

    client = client_for(cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL,
            {
                f"c-{cast.agent.pk}-{email.pk}": "manual",  # auto -> manual: the rule goes
                f"c-{cast.agent.pk}-{whatsapp.pk}": "none",
                f"c-{cast.admin.pk}-{email.pk}": "none",  # unchanged
                f"c-{cast.admin.pk}-{whatsapp.pk}": "auto",
            },
        )
    assert response.status_code == 302
    modes = {(r.user_id, r.account_id): r.mode for r in AssignmentRule.objects.all()}
    assert modes == {
        (cast.agent.pk, whatsapp.pk): "none",
        (cast.admin.pk, email.pk): "none",
        (cast.admin.pk, whatsapp.pk): "auto",
    }
    changes = {c.object_id: c for c in ConfigChange.objects.filter(section="assignments")}
    assert set(changes) == {str(cast.agent.pk), str(cast.admin.pk)}
    agent_change = changes[str(cast.agent.pk)]
    assert agent_change.actor == cast.admin and agent_change.action == "update"
    assert agent_change.before == {str(email): "auto", str(whatsapp): "manual"}
    assert agent_change.after == {str(email): "manual", str(whatsapp): "none"}
    assert changes[str(cast.admin.pk)].after == {str(whatsapp): "auto"}
    # The admin became automatic on WhatsApp, is connected and free: the waiting ticket is theirs.
    assert assignee_of(waiting) == cast.admin

    page = client.get(URL).content.decode()
    assert "3 cambios guardados." in page


def test_saving_nothing_new_logs_nothing(cast, board):
    response = client_for(cast.admin).post(URL, {f"c-{cast.agent.pk}-{board['email'].pk}": "auto"})
    assert response.status_code == 302
    assert not ConfigChange.objects.exists()


@pytest.mark.parametrize("bad", ["mode", "foreign account", "foreign person", "analyst"])
def test_a_wrong_cell_is_refused_with_a_reason_and_nothing_is_saved(cast, board, bad):
    email, foreign = board["email"], board["foreign"]
    field = {
        "mode": f"c-{cast.agent.pk}-{email.pk}",
        "foreign account": f"c-{cast.agent.pk}-{foreign.pk}",
        "foreign person": f"c-{cast.outsider.pk}-{email.pk}",
        "analyst": f"c-{cast.analyst.pk}-{email.pk}",
    }[bad]
    response = client_for(cast.admin).post(
        URL,
        {field: "siempre" if bad == "mode" else "auto", f"c-{cast.admin.pk}-{email.pk}": "none"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    if bad == "mode":
        assert "«siempre» no es un modo de asignación" in page
    else:
        assert "Una celda no corresponde a una persona o cuenta de tu empresa." in page
    assert not AssignmentRule.objects.filter(user=cast.admin).exists()
    assert not ConfigChange.objects.exists()
    with bypass_context():
        assert not AssignmentRule.all_tenants.filter(account=foreign).exists()


def test_the_page_is_for_admins_only(cast, board):
    for user in (cast.agent, cast.analyst):
        assert client_for(user).get(URL).status_code == 403
        assert client_for(user).post(URL, {}).status_code == 403


# --- the shell's socket: presence and the drain on connect ---------------------------------


@pytest.mark.django_db(transaction=True)
def test_opening_the_shell_connects_the_person_drains_the_queue_and_beats(cast, settings):
    from asgiref.sync import async_to_sync
    from channels.testing import WebsocketCommunicator
    from django.test import Client

    from helpdesk.asgi import application

    settings.PRESENCE_HEARTBEAT_SECONDS = 0.2
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccountFactory(tenant=cast.tenant_a, name="Soporte")
        agent = person(cast.tenant_a, accounts=[account], limit=1, connected=False)
        oldest, newer = queued(account, minutes_ago=9), queued(account, minutes_ago=1)
    client = Client()
    client.force_login(agent)
    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]

    def state() -> tuple[int, datetime.datetime | None]:
        with tenant_context(cast.tenant_a.pk):
            agent.refresh_from_db()
        return agent.presence_sockets, agent.presence_seen_at

    async def scenario() -> None:
        import asyncio

        comm = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
        assert (await comm.connect())[0]
        for _ in range(50):  # the consumer records the connect just after the handshake
            sockets, seen = await asyncio.to_thread(state)
            if sockets:
                break
            await asyncio.sleep(0.05)
        assert sockets == 1 and seen is not None
        await asyncio.sleep(0.7)  # a few heartbeats
        sockets, beaten = await asyncio.to_thread(state)
        assert sockets == 1 and beaten is not None and beaten > seen
        await comm.disconnect()

    async_to_sync(scenario)()

    assert state()[0] == 0
    with tenant_context(cast.tenant_a.pk):
        assert assignee_of(oldest) == agent and assignee_of(newer) is None
