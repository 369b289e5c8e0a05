"""The Users page: the list, invitations by email, edits, deactivation, the refusals, the
audit log, tenant isolation; and each person's availability and notification preferences."""

from __future__ import annotations

import datetime
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection
from django.test import Client

from admin_config import users
from deskconfig.models import ConfigChange, Department, DepartmentMembership
from helpdesk.models import Availability, Role, User
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import Cast, client_for
from tests.factories import UserFactory
from tests.tickets.factories import BotUserFactory, ChannelAccountFactory, TicketFactory
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Cordillera-de-los-Andes-77"


def _db(user: User) -> User:
    with bypass_context():
        return User.objects.get(pk=user.pk)


def _changes(cast: Cast, **filters: object) -> list[ConfigChange]:
    with tenant_context(cast.tenant_a.pk):
        return list(ConfigChange.objects.filter(section="users", **filters).order_by("id"))


def _departments(cast: Cast, *names: str) -> list[Department]:
    with tenant_context(cast.tenant_a.pk):
        return [Department.objects.create(name=n) for n in names]


def _invite(cast: Cast, **extra: object) -> Any:
    data = {
        "name": "Camila Rojas",
        "email": "camila@a.test",
        "role": Role.AGENT,
        "max_open_tickets": 8,
        **extra,
    }
    return client_for(cast.admin).post("/admin/users/new/", data)


def _link_from_mail() -> str:
    match = re.search(r"http://testserver(/accounts/invite/[^/\s]+/)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_people_with_role_departments_workload_and_state(cast):
    (sales,) = _departments(cast, "Ventas")
    with bypass_context():
        BotUserFactory(tenant=cast.tenant_a)
        away: User = UserFactory(
            tenant=cast.tenant_a, name="Pedro Ausente", availability=Availability.AWAY
        )
        gone: User = UserFactory(tenant=cast.tenant_a, name="Rita Desactivada", is_active=False)
    with tenant_context(cast.tenant_a.pk):
        DepartmentMembership.objects.create(department=sales, user=cast.agent)
        account = ChannelAccountFactory(tenant=cast.tenant_a)
        for status in (TicketStatus.OPEN, TicketStatus.OPEN, TicketStatus.CLOSED):
            TicketFactory(account=account, assignee=cast.agent, status=status)
        User.objects.filter(pk=cast.agent.pk).update(max_open_tickets=5)

    page = client_for(cast.admin).get("/admin/users/")
    assert page.status_code == 200
    body = page.content.decode()
    row = body[body.index(f'data-user="{cast.agent.pk}"') :].split("</tr>")[0]
    assert "Ejecutivo" in row and "Ventas" in row and "2 / 5" in row and "Disponible" in row
    assert "Ausente" in body.split(f'data-user="{away.pk}"')[1].split("</tr>")[0]
    assert "Desactivado" in body.split(f'data-user="{gone.pk}"')[1].split("</tr>")[0]
    assert "bot+" not in body  # the bot is not a person
    assert cast.outsider.email not in body


def test_the_list_is_queried_in_a_fixed_number_of_queries(cast, django_assert_max_num_queries):
    with bypass_context():
        for _ in range(5):
            UserFactory(tenant=cast.tenant_a)
    client = client_for(cast.admin)
    client.get("/admin/users/")
    with django_assert_max_num_queries(12):
        client.get("/admin/users/")


# --- inviting --------------------------------------------------------------------------------


def test_inviting_creates_the_person_without_password_and_mails_a_link(cast):
    sales, support = _departments(cast, "Ventas", "Soporte")
    response = _invite(cast, departments=[sales.pk, support.pk], email=" Camila@A.test ")
    assert response.status_code == 302 and response["Location"] == "/admin/users/"
    with tenant_context(cast.tenant_a.pk):
        camila = User.objects.get(email="camila@a.test")
        assert camila.tenant_id == cast.tenant_a.pk
        assert not camila.has_usable_password() and camila.invited_at is not None
        assert camila.max_open_tickets == 8 and camila.role == Role.AGENT
        assert set(
            DepartmentMembership.objects.filter(user=camila).values_list(
                "department__name", flat=True
            )
        ) == {"Ventas", "Soporte"}
        assert all(m.tenant_id == cast.tenant_a.pk for m in DepartmentMembership.objects.all())
    (message,) = mail.outbox
    assert message.to == ["camila@a.test"]
    assert "Tienda A" in message.subject
    assert "72 horas" in message.body
    listing = client_for(cast.admin).get("/admin/users/").content.decode()
    assert "Invitación pendiente" in listing and "Reenviar invitación" in listing
    (change,) = _changes(cast, action=ConfigChange.Action.CREATE)
    assert change.actor_id == cast.admin.pk and change.object_id == str(camila.pk)
    assert change.after["email"] == "camila@a.test"
    assert change.after["departments"] == sorted([sales.pk, support.pk])
    assert "password" not in change.after


def test_an_invitation_needs_a_name_a_valid_email_and_a_sane_workload(cast):
    response = _invite(cast, name="", email="no-es-correo", max_open_tickets=-1)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Este campo es obligatorio." in body
    assert "Introduzca una dirección de correo electrónico válida." in body
    assert "mayor o igual a 0" in body
    assert not mail.outbox
    assert not _changes(cast)


@pytest.mark.parametrize("taken", ["agent@a.test", "AGENT@A.TEST"])
def test_an_email_of_this_tenant_is_refused(cast, taken):
    # Another tenant's address is answered as any address (tests/security/test_findings.py).
    response = _invite(cast, email=taken)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ese correo ya está en uso." in body
    assert cast.tenant_b.name not in body
    with bypass_context():
        assert User.objects.filter(email__iexact=taken).count() == 1
    assert not mail.outbox


def test_another_tenants_department_cannot_be_given(cast):
    with tenant_context(cast.tenant_b.pk):
        foreign = Department.objects.create(name="De B")
    response = _invite(cast, departments=[foreign.pk])
    assert response.status_code == 200
    assert "Escoja una opción válida" in response.content.decode()
    with bypass_context():
        assert not User.objects.filter(email="camila@a.test").exists()


# --- the invitation link ---------------------------------------------------------------------


def test_the_link_sets_a_password_and_logs_the_person_in(cast):
    _invite(cast)
    link = _link_from_mail()
    visitor = Client()
    page = visitor.get(link)
    assert page.status_code == 200
    assert "Crea tu contraseña" in page.content.decode()

    weak = visitor.post(link, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200
    assert "contraseña" in weak.content.decode() and "común" in weak.content.decode()

    response = visitor.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert visitor.get("/inbox/").status_code == 200
    with bypass_context():
        camila = User.objects.get(email="camila@a.test")
    assert camila.check_password(NEW_PASSWORD) and camila.invited_at is None
    assert (
        Client().post("/accounts/login/", {"username": "camila@a.test", "password": NEW_PASSWORD})[
            "Location"
        ]
        == "/"
    )

    # Used once: the same link no longer works.
    again = Client().get(link)
    assert again.status_code == 410
    assert "ya se usó" in again.content.decode()


def test_the_link_expires_after_72_hours(cast):
    with time_machine.travel(datetime.datetime(2025, 3, 3, 12, 0, tzinfo=datetime.UTC)):
        _invite(cast)
        link = _link_from_mail()
    with time_machine.travel(datetime.datetime(2025, 3, 6, 11, 59, tzinfo=datetime.UTC)):
        assert Client().get(link).status_code == 200
    with time_machine.travel(datetime.datetime(2025, 3, 6, 12, 1, tzinfo=datetime.UTC)):
        page = Client().get(link)
        assert page.status_code == 410
        assert "Esta invitación venció" in page.content.decode()
        posted = Client().post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert posted.status_code == 410
    with bypass_context():
        assert not User.objects.get(email="camila@a.test").has_usable_password()


def test_a_tampered_link_is_not_found(cast):
    _invite(cast)
    link = _link_from_mail()
    page = Client().get(link.replace("/invite/", "/invite/x"))
    assert page.status_code == 404
    assert "no es válido" in page.content.decode()


def test_resending_replaces_the_old_link(cast):
    _invite(cast)
    old = _link_from_mail()
    with bypass_context():
        camila = User.objects.get(email="camila@a.test")
    with time_machine.travel(datetime.timedelta(seconds=2)):
        response = client_for(cast.admin).post(f"/admin/users/{camila.pk}/resend/")
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    new = _link_from_mail()
    assert new != old
    assert Client().get(old).status_code == 410
    assert Client().get(new).status_code == 200
    assert _changes(cast, action=ConfigChange.Action.UPDATE, object_id=str(camila.pk))


def test_an_accepted_invitation_is_not_resent(cast):
    response = client_for(cast.admin).post(f"/admin/users/{cast.agent.pk}/resend/", follow=True)
    assert "ya aceptó la invitación" in response.content.decode()
    assert not mail.outbox


def test_a_deactivated_persons_link_stops_working(cast):
    _invite(cast)
    link = _link_from_mail()
    with bypass_context():
        camila = User.objects.get(email="camila@a.test")
    client_for(cast.admin).post(f"/admin/users/{camila.pk}/deactivate/")
    assert Client().get(link).status_code == 410


# --- editing ---------------------------------------------------------------------------------


def test_editing_role_departments_and_workload_is_audited(cast):
    sales, support = _departments(cast, "Ventas", "Soporte")
    with tenant_context(cast.tenant_a.pk):
        DepartmentMembership.objects.create(department=sales, user=cast.agent)
    admin = client_for(cast.admin)
    form = admin.get(f"/admin/users/{cast.agent.pk}/").content.decode()
    assert 'value="agent@a.test"' in form
    response = admin.post(
        f"/admin/users/{cast.agent.pk}/",
        {
            "name": "Agente Renombrado",
            "email": "agent@a.test",
            "role": Role.ANALYST,
            "departments": [support.pk],
            "max_open_tickets": 20,
        },
    )
    assert response.status_code == 302
    agent = _db(cast.agent)
    assert (agent.name, agent.role, agent.max_open_tickets) == (
        "Agente Renombrado",
        Role.ANALYST,
        20,
    )
    with tenant_context(cast.tenant_a.pk):
        assert list(
            DepartmentMembership.objects.filter(user=agent).values_list("department", flat=True)
        ) == [support.pk]
    (change,) = _changes(cast, action=ConfigChange.Action.UPDATE)
    assert change.before == {
        "name": cast.agent.name,
        "role": "agent",
        "max_open_tickets": 10,
        "departments": [sales.pk],
    }
    assert change.after == {
        "name": "Agente Renombrado",
        "role": "analyst",
        "max_open_tickets": 20,
        "departments": [support.pk],
    }


def test_editing_to_an_email_in_use_is_refused(cast):
    response = client_for(cast.admin).post(
        f"/admin/users/{cast.agent.pk}/",
        {"name": "A", "email": "admin@b.test", "role": "agent", "max_open_tickets": 3},
    )
    assert response.status_code == 200
    assert "Ese correo ya está en uso." in response.content.decode()
    assert _db(cast.agent).email == "agent@a.test"


def test_the_last_active_admin_cannot_be_demoted(cast):
    response = client_for(cast.admin).post(
        f"/admin/users/{cast.admin.pk}/",
        {"name": "Yo", "email": "admin@a.test", "role": "agent", "max_open_tickets": 3},
    )
    assert response.status_code == 200
    assert "último administrador activo" in response.content.decode()
    assert _db(cast.admin).role == Role.ADMIN
    assert not _changes(cast)
    # With a second admin, the first one may step down.
    with bypass_context():
        UserFactory(tenant=cast.tenant_a, role=Role.ADMIN)
    response = client_for(cast.admin).post(
        f"/admin/users/{cast.admin.pk}/",
        {"name": "Yo", "email": "admin@a.test", "role": "agent", "max_open_tickets": 3},
    )
    assert response.status_code == 302
    assert _db(cast.admin).role == Role.AGENT


def test_the_last_active_admin_cannot_be_deactivated(cast):
    with tenant_context(cast.tenant_a.pk), pytest.raises(users.Refused, match="último"):
        users.user_deactivate(actor=cast.agent, user=cast.admin)
    assert _db(cast.admin).is_active


def test_nobody_deactivates_themselves(cast):
    with bypass_context():
        UserFactory(tenant=cast.tenant_a, role=Role.ADMIN)
    response = client_for(cast.admin).post(f"/admin/users/{cast.admin.pk}/deactivate/", follow=True)
    assert "No puedes desactivarte a ti mismo." in response.content.decode()
    assert _db(cast.admin).is_active
    assert not _changes(cast)


# --- deactivating ----------------------------------------------------------------------------


def test_a_deactivated_person_is_logged_out_cannot_log_in_and_loses_open_tickets(cast):
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccountFactory(tenant=cast.tenant_a)
        open_one: Ticket = TicketFactory(account=account, assignee=cast.agent)
        other_open: Ticket = TicketFactory(account=account, assignee=cast.agent)
        closed: Ticket = TicketFactory(
            account=account, assignee=cast.agent, status=TicketStatus.CLOSED
        )
    agent_browser = Client()
    logged_in = agent_browser.post(
        "/accounts/login/", {"username": cast.agent.email, "password": cast.password}
    )
    assert logged_in.status_code == 302
    assert agent_browser.get("/inbox/").status_code == 200

    response = client_for(cast.admin).post(f"/admin/users/{cast.agent.pk}/deactivate/")
    assert response.status_code == 302

    assert not _db(cast.agent).is_active
    after = agent_browser.get("/inbox/")
    assert after.status_code == 302 and after["Location"].startswith("/accounts/login/")
    assert not [
        s
        for s in Session.objects.all()
        if s.get_decoded().get("_auth_user_id") == str(cast.agent.pk)
    ]
    again = Client().post(
        "/accounts/login/", {"username": cast.agent.email, "password": cast.password}
    )
    assert again.status_code == 200  # the form again, not a redirect into the inbox

    with tenant_context(cast.tenant_a.pk):
        assert Ticket.objects.get(pk=open_one.pk).assignee_id is None
        assert Ticket.objects.get(pk=other_open.pk).assignee_id is None
        assert Ticket.objects.get(pk=closed.pk).assignee_id == cast.agent.pk
        events = Ticket.objects.get(pk=open_one.pk).events.filter(kind="assigned")
        assert [(e.data["before"], e.data["after"], e.actor_id) for e in events] == [
            (cast.agent.pk, None, cast.admin.pk)
        ]
    (change,) = _changes(cast)
    assert change.before == {"is_active": True} and change.after == {"is_active": False}
    listing = client_for(cast.admin).get("/admin/users/").content.decode()
    assert "Reactivar" in listing


def test_reactivating_lets_them_back_in(cast):
    client_for(cast.admin).post(f"/admin/users/{cast.agent.pk}/deactivate/")
    response = client_for(cast.admin).post(f"/admin/users/{cast.agent.pk}/reactivate/")
    assert response.status_code == 302
    assert _db(cast.agent).is_active
    login = Client().post(
        "/accounts/login/", {"username": cast.agent.email, "password": cast.password}
    )
    assert login.status_code == 302
    assert [c.after for c in _changes(cast)] == [{"is_active": False}, {"is_active": True}]


# --- tenant isolation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("post", ""),
        ("post", "deactivate/"),
        ("post", "reactivate/"),
        ("post", "resend/"),
    ],
)
def test_another_tenants_person_is_not_found(cast, method, suffix):
    client = client_for(cast.admin)
    response = getattr(client, method)(f"/admin/users/{cast.outsider.pk}/{suffix}")
    assert response.status_code == 404
    outsider = _db(cast.outsider)
    assert outsider.is_active and outsider.role == Role.ADMIN


def test_the_bot_is_not_editable(cast):
    with bypass_context():
        bot: User = BotUserFactory(tenant=cast.tenant_a)
    assert client_for(cast.admin).get(f"/admin/users/{bot.pk}/").status_code == 404


# --- my availability and my preferences ------------------------------------------------------


def test_the_user_menu_toggles_my_availability(cast, django_capture_on_commit_callbacks):
    agent = client_for(cast.agent)
    menu = agent.get("/inbox/").content.decode()
    assert 'data-availability="available"' in menu and "/me/availability/" in menu
    with django_capture_on_commit_callbacks() as away_callbacks:
        response = agent.post("/me/availability/", {"availability": "away", "next": "/help/"})
    assert response.status_code == 302 and response["Location"] == "/help/"
    assert _db(cast.agent).availability == Availability.AWAY
    assert not away_callbacks  # going away drains nothing
    assert 'data-availability="away"' in agent.get("/help/").content.decode()
    with django_capture_on_commit_callbacks(execute=True) as back_callbacks:
        agent.post("/me/availability/", {"availability": "available"})
    assert len(back_callbacks) == 1  # the queue drains once this commits
    assert _db(cast.agent).availability == Availability.AVAILABLE
    agent.post("/me/availability/", {"availability": "asleep"})
    assert _db(cast.agent).availability == Availability.AVAILABLE


def test_my_preferences_choose_the_emails_and_the_language(cast):
    agent = client_for(cast.agent)
    page = agent.get("/me/preferences/")
    assert page.status_code == 200
    assert "Cuando me asignan un ticket" in page.content.decode()
    response = agent.post(
        "/me/preferences/",
        {"email_on_assignment": "on", "email_on_sla_breach": "on", "language": "en"},
        follow=True,
    )
    assert "Preferences saved." in response.content.decode()
    agent_now = _db(cast.agent)
    assert agent_now.email_on_assignment and agent_now.email_on_sla_breach
    assert not agent_now.email_on_mention
    assert agent_now.language == "en"
    bad = agent.post("/me/preferences/", {"language": "klingon"})
    assert bad.status_code == 200
    assert _db(cast.agent).language == "en"


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(cast):
    """The admins' rows are locked in a fixed order: the second demotion waits for the first,
    then sees it would leave nobody, and is refused (real PostgreSQL, two connections)."""
    with bypass_context():
        second: User = UserFactory(tenant=cast.tenant_a, role=Role.ADMIN, email="admin2@a.test")
    barrier = threading.Barrier(2)

    def demote(actor: User, target: User) -> str:
        try:
            with tenant_context(cast.tenant_a.pk):
                barrier.wait(timeout=10)
                data = users.PersonData(
                    name=target.name,
                    email=target.email,
                    role=Role.AGENT,
                    departments=(),
                    max_open_tickets=10,
                )
                try:
                    users.user_update(actor=actor, user=target, data=data)
                except users.Refused:
                    return "refused"
                return "demoted"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(lambda pair: demote(*pair), [(cast.admin, second), (second, cast.admin)])
        )
    assert sorted(results) == ["demoted", "refused"]
    with bypass_context():
        admins = User.objects.filter(tenant=cast.tenant_a, role=Role.ADMIN, is_active=True)
        assert admins.count() == 1
