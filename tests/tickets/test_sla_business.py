"""The SLA clock in business time, the breach alerts, and the out-of-hours reply, through the
ticket services with time travel.

The schedule: Monday to Friday 09:00-18:00 in America/Santiago (June: UTC-4)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from deskconfig.models import (
    AccountAutomation,
    BusinessInterval,
    BusinessSchedule,
    Department,
    DepartmentMembership,
    TenantSettings,
)
from helpdesk.models import Notification, Role
from tests.factories import UserFactory
from tests.tickets.helpers import events, fresh, receive
from tickets import services
from tickets.models import Direction, EventKind, Message
from tickets.sla import flag_breaches, sla_state

pytestmark = pytest.mark.django_db

SCL = ZoneInfo("America/Santiago")
FRIDAY_EVENING = datetime.datetime(2025, 6, 6, 19, 30, tzinfo=SCL)
SATURDAY = datetime.datetime(2025, 6, 7, 11, 0, tzinfo=SCL)
MONDAY = datetime.datetime(2025, 6, 9, 9, 0, tzinfo=SCL)
MINUTE = datetime.timedelta(minutes=1)


def office_hours(**kw) -> BusinessSchedule:
    schedule = BusinessSchedule.objects.create(name=kw.pop("name", "Oficina"), **kw)
    for weekday in range(5):
        BusinessInterval.objects.create(
            schedule=schedule, weekday=weekday, start=datetime.time(9), end=datetime.time(18)
        )
    return schedule


@pytest.fixture
def office(in_a) -> BusinessSchedule:
    return office_hours(is_default=True)


@pytest.fixture
def scheduled(account, office):
    account.schedule = office
    account.sla_minutes = 60
    account.save()
    return account


# --- the clock ---------------------------------------------------------------------------------


def test_a_friday_evening_message_is_due_on_monday(scheduled):
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        ticket = receive(scheduled, text="¿Abren mañana?").message.ticket
    ticket = fresh(ticket)
    assert ticket.waiting_since == FRIDAY_EVENING
    assert ticket.sla_due_at == MONDAY + 60 * MINUTE
    assert ticket.sla_risk_at == MONDAY + 45 * MINUTE  # 75 % of the hour
    with time_machine.travel(MONDAY + 44 * MINUTE, tick=False):
        assert sla_state(ticket) == "ok"
        assert flag_breaches() == 0
    with time_machine.travel(MONDAY + 50 * MINUTE, tick=False):
        assert sla_state(ticket) == "risk"
    with time_machine.travel(MONDAY + 61 * MINUTE, tick=False):
        assert flag_breaches() == 1


def test_the_weekend_does_not_breach_a_business_time_sla(scheduled):
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        ticket = receive(scheduled).message.ticket
    with time_machine.travel(SATURDAY + datetime.timedelta(days=1), tick=False):
        assert flag_breaches() == 0
    assert fresh(ticket).sla_breached is False


def test_without_its_own_schedule_an_account_runs_around_the_clock(account, office):
    account.sla_minutes = 60
    account.save()
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        ticket = receive(account).message.ticket
    assert fresh(ticket).sla_due_at == FRIDAY_EVENING + 60 * MINUTE


def test_the_tenants_risk_percent_sets_the_risk_time(scheduled, in_a):
    TenantSettings.objects.create(sla_risk_percent=50)
    with time_machine.travel(MONDAY + 10 * MINUTE, tick=False):
        ticket = receive(scheduled).message.ticket
    ticket = fresh(ticket)
    assert ticket.sla_due_at == MONDAY + 70 * MINUTE
    assert ticket.sla_risk_at == MONDAY + 40 * MINUTE


def test_the_resolution_time_counts_business_time_from_the_opening(scheduled):
    scheduled.resolution_minutes = 600  # 9 h on Monday, then 1 h on Tuesday
    scheduled.save()
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        ticket = receive(scheduled).message.ticket
    tuesday_ten = datetime.datetime(2025, 6, 10, 10, 0, tzinfo=SCL)
    assert fresh(ticket).resolution_due_at == tuesday_ten
    # A later message does not move it.
    with time_machine.travel(MONDAY, tick=False):
        receive(scheduled, text="¿Y?")
    assert fresh(ticket).resolution_due_at == tuesday_ten


def test_no_resolution_time_leaves_it_empty(account):
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        ticket = receive(account).message.ticket
    assert fresh(ticket).resolution_due_at is None


def test_a_schedule_that_is_never_open_gives_no_due_time(account, in_a):
    account.schedule = BusinessSchedule.objects.create(name="Cerrado")
    account.save()
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        ticket = receive(account).message.ticket
    ticket = fresh(ticket)
    assert ticket.waiting_since == FRIDAY_EVENING
    assert ticket.sla_due_at is None and ticket.sla_risk_at is None
    assert sla_state(ticket) == ""
    with time_machine.travel(FRIDAY_EVENING + datetime.timedelta(days=30), tick=False):
        assert flag_breaches() == 0


# --- breach alerts -----------------------------------------------------------------------------


@pytest.fixture
def team(in_a):
    """A department with an admin who wants emails, an admin who does not, and an agent; an
    admin outside the department."""
    tenant = in_a.tenant_a
    sales = Department.objects.create(name="Ventas")
    boss = UserFactory(
        tenant=tenant, role=Role.ADMIN, email="jefa@a.test", email_on_sla_breach=True
    )
    quiet = UserFactory(tenant=tenant, role=Role.ADMIN, email="quieto@a.test")
    member = UserFactory(tenant=tenant, role=Role.AGENT, email="vendedor@a.test")
    outside = UserFactory(tenant=tenant, role=Role.ADMIN, email="fuera@a.test")
    for user in (boss, quiet, member):
        DepartmentMembership.objects.create(department=sales, user=user)
    return {"sales": sales, "boss": boss, "quiet": quiet, "member": member, "outside": outside}


def bells(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("text", flat=True))


def test_a_breach_alerts_the_assignee_and_the_departments_admins_once(
    account, team, in_a, eager_celery, django_capture_on_commit_callbacks
):
    in_a.agent.email_on_sla_breach = True
    in_a.agent.save()
    with time_machine.travel(MONDAY, tick=False):
        ticket = receive(account).message.ticket
        ticket.department = team["sales"]
        ticket.assignee = in_a.agent
        ticket.save()
    with time_machine.travel(MONDAY + 61 * MINUTE, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert flag_breaches() == 1
        for _ in range(3):  # beat runs every minute: nothing more
            with django_capture_on_commit_callbacks(execute=True):
                assert flag_breaches() == 0

    text = f"El SLA del ticket #{ticket.number} venció: el cliente espera respuesta."
    assert bells(in_a.agent) == [text]
    assert bells(team["boss"]) == [text]
    assert bells(team["quiet"]) == [text]
    assert bells(team["member"]) == []  # an agent of the department, not its admin
    assert bells(team["outside"]) == []  # an admin of another department
    assert bells(in_a.admin) == []
    assert Notification.objects.get(user=team["boss"]).url == f"/tickets/{ticket.number}/"
    # Email only for who opted in.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([in_a.agent.email, "jefa@a.test"])


def test_a_new_breach_after_an_answer_alerts_again(account, team, in_a):
    with time_machine.travel(MONDAY, tick=False):
        ticket = receive(account).message.ticket
        ticket.department = team["sales"]
        ticket.save()
    with time_machine.travel(MONDAY + 61 * MINUTE, tick=False):
        flag_breaches()
        services.message_send(ticket=fresh(ticket), author=in_a.agent, text="Perdón")
    with time_machine.travel(MONDAY + 120 * MINUTE, tick=False):
        receive(account, text="¿Y ahora?")
    with time_machine.travel(MONDAY + 200 * MINUTE, tick=False):
        assert flag_breaches() == 1
    assert len(bells(team["boss"])) == 2


def test_a_ticket_without_department_alerts_every_admin(account, team, in_a):
    with time_machine.travel(MONDAY, tick=False):
        receive(account)
    with time_machine.travel(MONDAY + 61 * MINUTE, tick=False):
        flag_breaches()
    for admin in (in_a.admin, team["boss"], team["quiet"], team["outside"]):
        assert len(bells(admin)) == 1
    assert bells(in_a.agent) == [] and bells(team["member"]) == []
    assert bells(in_a.outsider) == []


# --- the out-of-hours reply --------------------------------------------------------------------


@pytest.fixture
def out_of_hours(account, office, bot):
    """The account has no schedule of its own: the tenant's main one applies."""
    AccountAutomation.objects.create(
        account=account,
        out_of_hours_enabled=True,
        out_of_hours_text="Hola {cliente}, estamos cerrados: te respondemos el lunes.",
    )
    return account


def bot_replies(ticket) -> list[Message]:
    return list(Message.objects.filter(ticket=ticket, direction=Direction.OUT).order_by("id"))


def test_the_bot_answers_once_per_closed_stretch(out_of_hours):
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        ticket = receive(out_of_hours, customer_name="Ana").message.ticket
    (reply,) = bot_replies(ticket)
    assert reply.author_kind == "bot"
    assert reply.text.startswith("Hola Ana, estamos cerrados")
    out = [e for e in events(ticket, EventKind.MESSAGE_OUT)]
    assert out[0].data["out_of_hours"] is True

    with time_machine.travel(SATURDAY, tick=False):
        receive(out_of_hours, text="¿Hola?")  # same closed stretch: no second reply
    assert len(bot_replies(ticket)) == 1

    with time_machine.travel(MONDAY + 30 * MINUTE, tick=False):
        receive(out_of_hours, text="¿Ya abrieron?")  # open: no reply
    assert len(bot_replies(ticket)) == 1

    monday_night = MONDAY + datetime.timedelta(hours=12)
    with time_machine.travel(monday_night, tick=False):
        receive(out_of_hours, text="Sigo esperando")  # a new closed stretch
    assert len(bot_replies(ticket)) == 2
    # The bot's replies do not stop the SLA clock.
    assert fresh(ticket).waiting_since == FRIDAY_EVENING


def test_no_reply_to_automatic_mail(out_of_hours):
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        ticket = receive(out_of_hours, text="Fuera de la oficina", auto_submitted=True)
    assert bot_replies(ticket.message.ticket) == []


def test_no_reply_when_the_customer_has_the_bot_off(out_of_hours, bot, in_a):
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        ticket = receive(out_of_hours).message.ticket
    services.customer_set_bot(customer=ticket.customer, actor=in_a.agent, enabled=False)
    with time_machine.travel(FRIDAY_EVENING + datetime.timedelta(days=7), tick=False):
        receive(out_of_hours, text="Otra semana")
    assert len(bot_replies(ticket)) == 1  # only last week's


def test_no_reply_when_switched_off_or_open_or_without_schedule(out_of_hours, office, in_a):
    with time_machine.travel(MONDAY, tick=False):
        ticket = receive(out_of_hours).message.ticket
    assert bot_replies(ticket) == []  # open

    automation = AccountAutomation.objects.get(account=out_of_hours)
    automation.out_of_hours_enabled = False
    automation.save()
    with time_machine.travel(SATURDAY, tick=False):
        receive(out_of_hours, identity="otro@example.test")
    automation.out_of_hours_enabled = True
    automation.save()
    office.is_default = False
    office.save()  # no main schedule, none of its own: never "out of hours"
    with time_machine.travel(SATURDAY, tick=False):
        receive(out_of_hours, identity="tercero@example.test")
    assert not Message.objects.filter(direction=Direction.OUT).exists()


def test_the_accounts_own_schedule_decides(out_of_hours, in_a):
    always = BusinessSchedule.objects.create(name="Siempre")
    for weekday in range(7):
        BusinessInterval.objects.create(
            schedule=always, weekday=weekday, start=datetime.time(0), end=datetime.time.max
        )
    out_of_hours.schedule = always
    out_of_hours.save()
    with time_machine.travel(SATURDAY, tick=False):
        ticket = receive(out_of_hours).message.ticket
    assert bot_replies(ticket) == []
