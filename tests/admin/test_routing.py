"""Routing rules: the engine (order, first match wins, inactive skipped, keywords, each
action, new tickets only) and the page (list, form, order, tester, isolation, audit)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskconfig.kinds import ChannelKind
from deskconfig.models import ConfigChange, Department, RoutingRule
from helpdesk.models import Notification, Role
from helpdesk.tenancy import tenant_context
from tests.admin.crud_support import assert_refused_to_non_admins, changes, make, page
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import events, fresh, receive
from tickets.models import EventKind
from workflow import routing

pytestmark = pytest.mark.django_db

URL = "/admin/routing/"


@pytest.fixture
def accounts(in_a):
    return {
        "mail": ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.EMAIL, name="Correo"),
        "wa": ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.WHATSAPP, name="WA"),
        "wa2": ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.WHATSAPP, name="WA 2"),
    }


@pytest.fixture
def depts(in_a):
    return {n: Department.objects.create(name=n) for n in ("Ventas", "Soporte", "Cobranza")}


def rule(name, position, **fields):
    return RoutingRule.objects.create(name=name, position=position, **fields)


def sample(text="", kind=ChannelKind.EMAIL, account=None):
    return routing.Sample(kind=kind, account_id=account.pk if account else None, text=text)


# --- the engine ----------------------------------------------------------------------------


def test_rules_are_tried_in_order_and_the_first_match_wins(depts):
    later = rule("Después", 2, keywords=["factura"], set_department=depts["Cobranza"])
    first = rule("Antes", 1, keywords=["factura", "boleta"], set_department=depts["Ventas"])
    rules = routing.active_rules()
    assert [r.name for r in rules] == ["Antes", "Después"]
    assert routing.first_match(rules, sample("Mi FACTURA")) == first
    first.position = 3
    first.save()
    assert routing.first_match(routing.active_rules(), sample("Mi factura")) == later


def test_inactive_rules_are_skipped(depts):
    rule("Apagada", 1, active=False, set_department=depts["Ventas"])
    fallback = rule("Todo", 2, set_department=depts["Soporte"])
    assert routing.first_match(routing.active_rules(), sample("hola")) == fallback
    off = RoutingRule.objects.get(name="Apagada")
    assert routing.first_match([off, fallback], sample("hola")) == fallback


def test_an_empty_condition_matches_anything(depts, accounts):
    anything = rule("Todo", 1, mark_important=True)
    for kind, account in ((ChannelKind.EMAIL, accounts["mail"]), (ChannelKind.TWITTER, None)):
        assert routing.rule_matches(anything, sample("", kind=kind, account=account))


def test_channels_and_accounts_are_any_of_and_all_conditions_together(depts, accounts):
    r = rule(
        "WA ventas",
        1,
        channels=[ChannelKind.WHATSAPP, ChannelKind.FACEBOOK],
        accounts=[accounts["wa"].pk, accounts["mail"].pk],
        keywords=["precio"],
        set_department=depts["Ventas"],
    )
    wa, wa2, mail = accounts["wa"], accounts["wa2"], accounts["mail"]
    assert routing.rule_matches(r, sample("¿Precio?", ChannelKind.WHATSAPP, wa))
    assert not routing.rule_matches(r, sample("¿Precio?", ChannelKind.WHATSAPP, wa2))
    assert not routing.rule_matches(r, sample("¿Precio?", ChannelKind.EMAIL, mail))
    assert not routing.rule_matches(r, sample("Hola", ChannelKind.WHATSAPP, wa))


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("Quiero DEVOLVER esto", True),
        ("quiero devolvér", True),  # accent in the text only
        ("una devolución por favor", True),  # accent in the keyword only ("devolucion")
        ("¿Reembolso?", True),
        ("los devolveremos", False),  # inside another word
        ("Reembolsos", False),
        ("nota de crédito", True),  # a phrase
        ("nota de créditos", False),
    ],
)
def test_keywords_are_whole_words_case_and_accent_insensitive(depts, text, matches):
    r = rule(
        "Devoluciones",
        1,
        keywords=["devolver", "devolucion", "reembolso", "Nota de Crédito"],
        set_department=depts["Soporte"],
    )
    assert routing.rule_matches(r, sample(text)) is matches


def test_a_new_ticket_gets_the_department_importance_and_agent(in_a, accounts, depts):
    rule("Otra", 1, keywords=["boleta"], set_department=depts["Cobranza"])
    r = rule(
        "Ventas VIP",
        2,
        channels=[ChannelKind.WHATSAPP],
        keywords=["cotización"],
        set_department=depts["Ventas"],
        mark_important=True,
        assign_to=in_a.agent,
    )
    received = receive(accounts["wa"], identity="+56911112222", text="Necesito una COTIZACION")
    ticket = fresh(received.message.ticket)
    assert ticket.department_id == depts["Ventas"].pk
    assert ticket.important is True
    assert ticket.assignee_id == in_a.agent.pk

    (routed,) = events(ticket, routing.ROUTED)
    assert routed.actor is None and routed.actor_kind == "system"
    assert routed.data["rule"] == r.pk and routed.data["department_name"] == "Ventas"
    assert routed.data["keywords"] == ["cotización"]
    (important,) = events(ticket, EventKind.IMPORTANT)
    assert important.actor is None
    (assigned,) = events(ticket, EventKind.ASSIGNED)
    assert assigned.actor is None and assigned.data["after"] == in_a.agent.pk
    assert Notification.objects.filter(user=in_a.agent, text__contains=f"#{ticket.number}").exists()


def test_each_action_on_its_own(in_a, accounts, depts):
    rule("Depto", 1, keywords=["uno"], set_department=depts["Soporte"])
    rule("Importante", 2, keywords=["dos"], mark_important=True)
    rule("Agente", 3, keywords=["tres"], assign_to=in_a.admin)
    one = fresh(receive(accounts["mail"], identity="a@x.test", text="uno").message.ticket)
    two = fresh(receive(accounts["mail"], identity="b@x.test", text="dos").message.ticket)
    three = fresh(receive(accounts["mail"], identity="c@x.test", text="tres").message.ticket)
    assert (one.department_id, one.important, one.assignee_id) == (
        depts["Soporte"].pk,
        False,
        None,
    )
    assert (two.department_id, two.important, two.assignee_id) == (None, True, None)
    assert (three.department_id, three.important, three.assignee_id) == (
        None,
        False,
        in_a.admin.pk,
    )
    assert not events(one, EventKind.IMPORTANT) and not events(one, EventKind.ASSIGNED)


def test_no_match_leaves_the_ticket_alone(in_a, accounts, depts):
    rule("Precio", 1, keywords=["precio"], set_department=depts["Ventas"], mark_important=True)
    ticket = fresh(receive(accounts["mail"], text="Hola").message.ticket)
    assert (ticket.department_id, ticket.important) == (None, False)
    assert events(ticket, routing.ROUTED) == []


def test_an_email_subject_counts_as_part_of_the_first_message(in_a, accounts, depts):
    rule("Factura", 1, keywords=["factura"], set_department=depts["Cobranza"])
    received = receive(accounts["mail"], text="Adjunto el documento", subject="Factura 123")
    assert fresh(received.message.ticket).department_id == depts["Cobranza"].pk


def test_an_existing_tickets_later_message_is_not_routed_again(in_a, accounts, depts):
    rule("Precio", 1, keywords=["precio"], set_department=depts["Ventas"])
    rule("Reclamo", 2, keywords=["reclamo"], set_department=depts["Soporte"], assign_to=in_a.agent)
    first = receive(accounts["wa"], identity="+56911112222", text="Hola, ¿precio?")
    later = receive(accounts["wa"], identity="+56911112222", text="Tengo un reclamo")
    assert later.created and later.message.ticket_id == first.message.ticket_id
    ticket = fresh(first.message.ticket)
    assert ticket.department_id == depts["Ventas"].pk and ticket.assignee_id is None
    assert len(events(ticket, routing.ROUTED)) == 1


def test_a_deactivated_agent_is_skipped_without_breaking_the_receive(in_a, accounts, depts):
    gone = UserFactory(tenant=in_a.tenant_a, role=Role.AGENT, is_active=False)
    rule("Al que se fue", 1, set_department=depts["Ventas"], assign_to=gone)
    received = receive(accounts["mail"], text="Hola")
    ticket = fresh(received.message.ticket)
    assert ticket.department_id == depts["Ventas"].pk and ticket.assignee_id is None


def test_another_tenants_rules_never_apply(cast, accounts):
    with tenant_context(cast.tenant_b.pk):
        RoutingRule.objects.create(tenant=cast.tenant_b, name="De B", mark_important=True)
    with tenant_context(cast.tenant_a.pk):
        ticket = fresh(receive(accounts["mail"], text="Hola").message.ticket)
        assert ticket.important is False


# --- the page ------------------------------------------------------------------------------


def rules_of(tenant):
    with tenant_context(tenant.pk):
        return list(RoutingRule.objects.order_by("position", "id"))


def form(**overrides):
    data = {"name": "Ventas", "active": "on", "keywords": "", "mark_important": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_list_shows_this_tenants_rules_in_order(cast, accounts, depts):
    with tenant_context(cast.tenant_a.pk):
        rule("Segunda", 2, keywords=["boleta"], accounts=[accounts["wa"].pk], mark_important=True)
        rule("Primera", 1, channels=["whatsapp"], set_department=depts["Ventas"])
    make(cast, RoutingRule, cast.tenant_b, name="Regla de B", mark_important=True)
    html = page(client_for(cast.admin), URL)
    assert html.index("Primera") < html.index("Segunda")
    assert "Regla de B" not in html
    assert "Canal: WhatsApp" in html and "Cuenta: WA" in html and "Palabras: boleta" in html
    assert "Departamento: Ventas" in html and "Marcar importante" in html
    assert 'id="routing-tester"' in html


def test_create_edit_delete_each_audited(cast, accounts, depts):
    client = client_for(cast.admin)
    data = form(
        channels=["whatsapp", "email"],
        accounts=[accounts["wa"].pk],
        keywords="Cotización\r\n\r\n  precio   final \r\ncotización",
        set_department=depts["Ventas"].pk,
        assign_to=cast.agent.pk,
    )
    assert client.post(f"{URL}new/", data).status_code == 302
    (created,) = rules_of(cast.tenant_a)
    assert created.channels == ["whatsapp", "email"]
    assert created.accounts == [accounts["wa"].pk]
    assert created.keywords == ["Cotización", "precio final"]
    assert created.set_department_id == depts["Ventas"].pk and created.assign_to_id == cast.agent.pk
    assert created.mark_important and created.position == 1

    edit = client.get(f"{URL}{created.pk}/").content.decode()
    assert "Cotización\nprecio final</textarea>" in edit

    data.update(keywords="precio", assign_to="")
    assert client.post(f"{URL}{created.pk}/", data).status_code == 302
    (edited,) = rules_of(cast.tenant_a)
    assert edited.keywords == ["precio"] and edited.assign_to_id is None
    assert client.post(f"{URL}{created.pk}/delete/").status_code == 302
    assert rules_of(cast.tenant_a) == []

    log = changes(cast.tenant_a, "routing")
    assert [c.action for c in log] == [
        ConfigChange.Action.CREATE,
        ConfigChange.Action.UPDATE,
        ConfigChange.Action.DELETE,
    ]
    assert log[0].after["keywords"] == ["Cotización", "precio final"]
    assert log[1].before == {
        "keywords": ["Cotización", "precio final"],
        "assign_to_id": cast.agent.pk,
    }
    assert log[1].after == {"keywords": ["precio"], "assign_to_id": None}


def test_new_rules_go_last(cast):
    client = client_for(cast.admin)
    for name in ("A", "B", "C"):
        client.post(f"{URL}new/", form(name=name))
    assert [(r.name, r.position) for r in rules_of(cast.tenant_a)] == [
        ("A", 1),
        ("B", 2),
        ("C", 3),
    ]


def test_rules_move_up_and_down(cast):
    client = client_for(cast.admin)
    for name in ("A", "B", "C"):
        client.post(f"{URL}new/", form(name=name))
    a, b, c = rules_of(cast.tenant_a)
    client.post(f"{URL}{c.pk}/move/", {"direction": "up"})
    client.post(f"{URL}{a.pk}/move/", {"direction": "down"})
    client.post(f"{URL}{b.pk}/move/", {"direction": "down"})  # already last
    client.post(f"{URL}{b.pk}/move/", {"direction": "sideways"})
    assert [r.name for r in rules_of(cast.tenant_a)] == ["C", "A", "B"]
    moves = [x for x in changes(cast.tenant_a, "routing") if x.action == "update"]
    assert [(x.object_repr, x.before, x.after) for x in moves] == [
        ("C", {"position": 3}, {"position": 2}),
        ("B", {"position": 2}, {"position": 3}),
        ("C", {"position": 2}, {"position": 1}),
        ("A", {"position": 1}, {"position": 2}),
    ]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"mark_important": None}, "Elige al menos una acción"),
        ({"name": ""}, "Este campo es obligatorio."),
        ({"keywords": "x" * 101}, "Cada palabra clave puede tener hasta 100 caracteres."),
        ({"keywords": "hola\n¿?!"}, "Estas líneas no tienen letras ni números: ¿?!."),
        ({"channels": ["fax"]}, "Escoja una opción válida"),
    ],
)
def test_validation_errors_in_spanish(cast, overrides, error):
    response = client_for(cast.admin).post(f"{URL}new/", form(**overrides))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert rules_of(cast.tenant_a) == []
    assert changes(cast.tenant_a, "routing") == []


def test_only_this_tenants_accounts_departments_and_people_are_offered(cast, accounts):
    with tenant_context(cast.tenant_b.pk):
        theirs = {
            "accounts": ChannelAccountFactory(tenant=cast.tenant_b, name="Cuenta de B").pk,  # type: ignore[attr-defined]
            "set_department": Department.objects.create(tenant=cast.tenant_b, name="Depto de B").pk,
        }
    theirs["assign_to"] = cast.outsider.pk
    client = client_for(cast.admin)
    html = page(client, f"{URL}new/")
    assert "Correo" in html and cast.agent.name in html
    assert "Cuenta de B" not in html and "Depto de B" not in html
    assert cast.outsider.name not in html
    for field, pk in theirs.items():
        response = client.post(f"{URL}new/", form(**{field: pk}))
        assert "Escoja una opción válida" in response.content.decode(), field
    assert rules_of(cast.tenant_a) == []


def test_another_tenants_rule_is_404_and_untouched(cast):
    theirs = make(cast, RoutingRule, cast.tenant_b, name="De B", mark_important=True)
    client = client_for(cast.admin)
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.post(f"{URL}{theirs.pk}/", form()).status_code == 404
    assert client.post(f"{URL}{theirs.pk}/delete/").status_code == 404
    assert client.post(f"{URL}{theirs.pk}/move/", {"direction": "up"}).status_code == 404
    assert [r.name for r in rules_of(cast.tenant_b)] == ["De B"]


def test_agents_and_analysts_are_refused(cast):
    r = make(cast, RoutingRule, name="X", mark_important=True)
    base = f"{URL}{r.pk}/"
    assert_refused_to_non_admins(
        cast,
        client_for,
        [URL, f"{URL}new/", base, f"{base}delete/", f"{base}move/", f"{URL}test/"],
    )


def test_the_tester_says_which_rule_matches_and_what_it_does(cast, accounts, depts):
    with tenant_context(cast.tenant_a.pk):
        rule("Apagada", 1, active=False, mark_important=True)
        rule(
            "Cobranza WA",
            2,
            channels=["whatsapp"],
            keywords=["boleta", "factura"],
            set_department=depts["Cobranza"],
            assign_to=cast.agent,
        )
    client = client_for(cast.admin)
    hit = client.post(
        f"{URL}test/",
        {"account": accounts["wa2"].pk, "text": "Mi BOLETA no llegó"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "<html" not in hit
    assert "Coincide la regla «Cobranza WA»" in hit
    assert "Departamento: Cobranza" in hit and f"Asignar a {cast.agent}" in hit
    assert "boleta</span>" in hit

    by_kind = client.post(
        f"{URL}test/", {"channel": "whatsapp", "text": "factura"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Coincide la regla «Cobranza WA»" in by_kind

    miss = client.post(
        f"{URL}test/", {"account": accounts["mail"].pk, "text": "Mi boleta"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Ninguna regla coincide" in miss

    plain = client.post(f"{URL}test/", {"channel": "whatsapp", "text": "boletas"})
    html = plain.content.decode()
    assert "<html" in html and "Ninguna regla coincide" in html

    invalid = client.post(f"{URL}test/", {"text": "hola"}, HTTP_HX_REQUEST="true")
    assert "Elige una cuenta o un canal." in invalid.content.decode()


def test_the_tester_refuses_another_tenants_account(cast):
    with tenant_context(cast.tenant_b.pk):
        theirs: Any = ChannelAccountFactory(tenant=cast.tenant_b)
    response = client_for(cast.admin).post(
        f"{URL}test/", {"account": theirs.pk, "text": "hola"}, HTTP_HX_REQUEST="true"
    )
    assert "Escoja una opción válida" in response.content.decode()


KINDS = [ChannelKind.EMAIL, ChannelKind.WHATSAPP, ChannelKind.TWITTER]
WORDS = ["precio", "reclamo", "factura"]


@given(
    specs=st.lists(
        st.tuples(
            st.booleans(),
            st.lists(st.sampled_from(KINDS), unique=True, max_size=2),
            st.lists(st.sampled_from(WORDS), unique=True, max_size=2),
        ),
        max_size=6,
    ),
    kind=st.sampled_from(KINDS),
    words=st.lists(st.sampled_from([*WORDS, "hola"]), max_size=3),
)
def test_the_winner_is_always_the_first_active_rule_that_matches(specs, kind, words):
    rules = [
        RoutingRule(name=str(i), position=i, active=a, channels=c, keywords=k, pk=i + 1)
        for i, (a, c, k) in enumerate(specs)
    ]
    text = " ".join(w.upper() for w in words)
    winner = routing.first_match(rules, sample(text, kind=kind))
    expected = [
        r
        for r in rules
        if r.active
        and (not r.channels or kind in r.channels)
        and (not r.keywords or set(r.keywords) & set(words))
    ]
    assert winner == (expected[0] if expected else None)


def test_the_tester_works_with_the_values_it_shows(cast, accounts):
    """What the page first shows (the first account chosen, no text) tests something."""
    client = client_for(cast.admin)
    page = client.get(URL).content.decode()
    tester = page[page.index('id="routing-tester"') :]
    chosen = re.search(r'<option value="(\d+)" selected>', tester)
    assert chosen is not None
    answer = client.post(
        f"{URL}test/",
        {"account": chosen.group(1), "channel": "", "text": ""},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Elige una cuenta o un canal." not in answer and "obligatorio" not in answer
    assert "Ninguna regla coincide" in answer
