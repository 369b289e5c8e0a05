"""WhatsApp's 24-hour window and its approved templates: the services, the ticket composer
and the new-ticket page."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from channels_conn.whatsapp import templates, window
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import ForbiddenWord, WhatsAppTemplate
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import client_for
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import receive
from tickets import services
from tickets.models import DeliveryStatus, Direction, Event, EventKind, Message, Ticket

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2025, 6, 2, 15, 0, tzinfo=datetime.UTC)
PHONE = "+56 9 1234 5678"
CLOSED_NOTICE = "Han pasado más de 24 horas desde el último mensaje del cliente"


def _whatsapp(tenant, name="+56 2 2000 1000"):
    return ChannelAccountFactory(tenant=tenant, kind=ChannelKind.WHATSAPP, name=name)


def _template(account, name="confirmacion_pedido", body=None, status="APPROVED", **kw):
    return WhatsAppTemplate.objects.create(
        tenant_id=account.tenant_id,
        account=account,
        name=name,
        body=body or "Hola {{1}}, tu pedido {{2}} llega el {{3}}.",
        status=status,
        **kw,
    )


def _ticket_received_at(account, at, identity=PHONE) -> Ticket:
    return receive(
        account, identity=identity, text="Hola, ¿y mi pedido?", received_at=at
    ).message.ticket


@pytest.fixture
def wa(in_a):
    return _whatsapp(in_a.tenant_a)


@pytest.fixture
def template(wa):
    return _template(wa)


# --- the window ------------------------------------------------------------------------------


def test_the_window_is_open_for_24_hours_after_the_customers_last_message(wa):
    ticket = _ticket_received_at(wa, T0)
    assert window.window_open(ticket, T0 + datetime.timedelta(hours=23, minutes=59))
    assert not window.window_open(ticket, T0 + datetime.timedelta(hours=24, minutes=1))
    # A new customer message opens it again.
    receive(wa, identity=PHONE, text="¿Hola?", received_at=T0 + datetime.timedelta(hours=30))
    assert window.window_open(ticket, T0 + datetime.timedelta(hours=31))


def test_other_channels_have_no_window(in_a):
    email = ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.EMAIL)
    ticket = receive(email, received_at=T0).message.ticket
    assert window.window_open(ticket, T0 + datetime.timedelta(days=30))


def test_a_ticket_the_customer_never_wrote_on_has_no_window(wa, template, in_a):
    ticket = templates.ticket_create_with_template(
        account=wa, identity=PHONE, author=in_a.agent, template=template,
        params=["Ana", "10388", "lunes"],
    )  # fmt: skip
    assert not window.window_open(ticket, ticket.created_at)


def test_free_text_is_sent_at_23h59_and_refused_at_24h01(wa, in_a):
    ticket = _ticket_received_at(wa, T0)
    with time_machine.travel(T0 + datetime.timedelta(hours=23, minutes=59), tick=False):
        services.message_send(ticket=ticket, author=in_a.agent, text="Te ayudo")
    late = T0 + datetime.timedelta(hours=24, minutes=1)
    with time_machine.travel(late, tick=False), pytest.raises(services.ActionRefused) as refused:
        services.message_send(ticket=ticket, author=in_a.agent, text="¿Sigues ahí?")
    assert "24 horas" in refused.value.messages[0]
    assert "plantilla" in refused.value.messages[0]
    assert Message.objects.filter(ticket=ticket, direction=Direction.OUT).count() == 1


def test_the_bot_is_refused_too_after_24_hours(wa, bot):
    ticket = _ticket_received_at(wa, T0)
    late = T0 + datetime.timedelta(hours=25)
    with time_machine.travel(late, tick=False), pytest.raises(services.ActionRefused):
        services.message_send(ticket=ticket, author=bot, text="¿Te ayudamos en algo más?")


# --- sending a template ----------------------------------------------------------------------


def test_a_template_is_sent_outside_the_window_with_its_filled_text_and_data(wa, template, in_a):
    ticket = _ticket_received_at(wa, T0)
    with time_machine.travel(T0 + datetime.timedelta(days=3), tick=False):
        message = templates.message_send_template(
            ticket=ticket, author=in_a.agent, template=template, params=[" Ana ", "10388", "lunes"]
        )
    assert message.text == "Hola Ana, tu pedido 10388 llega el lunes."
    assert (message.direction, message.status, message.is_public) == (
        Direction.OUT,
        DeliveryStatus.QUEUED,
        False,
    )
    event = Event.objects.get(kind=EventKind.MESSAGE_OUT, data__message=message.pk)
    assert event.data["template"] == {
        "id": template.pk,
        "name": "confirmacion_pedido",
        "language": "es",
        "params": ["Ana", "10388", "lunes"],
    }
    # What the connector reads back, and the Cloud API payload it builds.
    recorded = templates.sent_template(message)
    assert recorded == event.data["template"]
    assert templates.template_payload(recorded) == {
        "name": "confirmacion_pedido",
        "language": {"code": "es"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Ana"},
                    {"type": "text", "text": "10388"},
                    {"type": "text", "text": "lunes"},
                ],
            }
        ],
    }
    ticket.refresh_from_db()
    assert ticket.addressed and not ticket.awaiting_response


def test_a_free_text_message_has_no_template(wa, in_a):
    ticket = _ticket_received_at(wa, T0)
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        message = services.message_send(ticket=ticket, author=in_a.agent, text="Hola")
    assert templates.sent_template(message) is None


def test_a_template_without_parameters_has_no_components(wa, in_a):
    plain = _template(wa, name="hola", body="Hola, ¿seguimos con tu consulta?")
    ticket = _ticket_received_at(wa, T0)
    message = templates.message_send_template(
        ticket=ticket, author=in_a.agent, template=plain, params=[]
    )
    assert templates.template_payload(templates.sent_template(message)) == {
        "name": "hola",
        "language": {"code": "es"},
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (["Ana", "10388"], "lleva 3 parámetros y llegaron 2"),
        (["Ana", "10388", "lunes", "extra"], "lleva 3 parámetros y llegaron 4"),
        (["Ana", "  ", "lunes"], "Completa el parámetro {{2}}"),
        (["Ana", "10388\nlunes", "martes"], "no puede tener saltos de línea"),
    ],
)
def test_template_parameters_are_checked(wa, template, in_a, params, expected):
    ticket = _ticket_received_at(wa, T0)
    with pytest.raises(services.ActionRefused) as refused:
        templates.message_send_template(
            ticket=ticket, author=in_a.agent, template=template, params=params
        )
    assert expected in refused.value.messages[0]
    assert not Message.objects.filter(direction=Direction.OUT).exists()


def test_a_forbidden_word_in_a_parameter_is_refused(wa, template, in_a):
    ForbiddenWord.objects.create(tenant=in_a.tenant_a, word="estúpido")
    ticket = _ticket_received_at(wa, T0)
    with pytest.raises(services.ActionRefused) as refused:
        templates.message_send_template(
            ticket=ticket, author=in_a.agent, template=template, params=["ESTUPIDO", "1", "2"]
        )
    assert "palabras no permitidas: estúpido" in refused.value.messages[0]


@pytest.mark.parametrize("status", ["PENDING", "REJECTED", "PAUSED"])
def test_only_approved_templates_are_sent(wa, in_a, status):
    pending = _template(wa, name="nueva", status=status)
    ticket = _ticket_received_at(wa, T0)
    with pytest.raises(services.ActionRefused) as refused:
        templates.message_send_template(
            ticket=ticket, author=in_a.agent, template=pending, params=["a", "b", "c"]
        )
    assert "no está aprobada" in refused.value.messages[0]


def test_a_template_of_another_account_is_refused(wa, in_a):
    other = _whatsapp(in_a.tenant_a, name="+56 2 2000 9999")
    foreign = _template(other)
    ticket = _ticket_received_at(wa, T0)
    with pytest.raises(services.ActionRefused) as refused:
        templates.message_send_template(
            ticket=ticket, author=in_a.agent, template=foreign, params=["a", "b", "c"]
        )
    assert "es de otra cuenta de WhatsApp" in refused.value.messages[0]


def test_templates_are_for_whatsapp_tickets_only(wa, template, in_a):
    email = ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.EMAIL)
    ticket = receive(email).message.ticket
    with pytest.raises(services.ActionRefused) as refused:
        templates.message_send_template(
            ticket=ticket, author=in_a.agent, template=template, params=["a", "b", "c"]
        )
    assert "solo se envían por WhatsApp" in refused.value.messages[0]


def test_a_proactive_whatsapp_ticket_starts_with_a_template_not_free_text(wa, template, in_a):
    with pytest.raises(services.ActionRefused) as refused:
        services.ticket_create(account=wa, identity=PHONE, author=in_a.agent, text="Hola Ana")
    assert "24 horas" in refused.value.messages[0]
    assert not Ticket.objects.exists()
    ticket = templates.ticket_create_with_template(
        account=wa, identity=PHONE, author=in_a.agent, template=template,
        params=["Ana", "10388", "lunes"],
    )  # fmt: skip
    message = ticket.messages.get()
    assert message.text == "Hola Ana, tu pedido 10388 llega el lunes."
    assert (templates.sent_template(message) or {})["name"] == "confirmacion_pedido"


# --- the ticket page -------------------------------------------------------------------------


@pytest.fixture
def old_ticket(cast):
    """A WhatsApp ticket whose customer wrote two days ago, with two approved templates."""
    with tenant_context(cast.tenant_a.pk):
        account = _whatsapp(cast.tenant_a)
        approved = _template(account)
        _template(account, name="retomar", body="Hola {{1}}, ¿podemos ayudarte?")
        _template(account, name="borrador", status="PENDING")
        at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2)
        ticket = _ticket_received_at(account, at)
    return ticket, approved


def test_the_composer_shows_the_notice_and_the_picker_when_the_window_is_closed(cast, old_ticket):
    ticket, approved = old_ticket
    html = client_for(cast.agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert CLOSED_NOTICE in html
    assert "Enviar plantilla" in html
    assert f'name="param-{approved.pk}-3"' in html
    assert "retomar" in html and "borrador" not in html  # approved ones only
    assert "Escribe tu respuesta" not in html  # no free text


def test_the_composer_offers_a_template_while_the_window_is_open(cast):
    with tenant_context(cast.tenant_a.pk):
        account = _whatsapp(cast.tenant_a)
        _template(account)
        ticket = _ticket_received_at(account, None)
    html = client_for(cast.agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert CLOSED_NOTICE not in html
    assert "Escribe tu respuesta" in html
    assert "Usar plantilla" in html


def test_an_email_ticket_has_no_template_picker(cast):
    with tenant_context(cast.tenant_a.pk):
        email = ChannelAccountFactory(tenant=cast.tenant_a, kind=ChannelKind.EMAIL)
        ticket = receive(email).message.ticket
    html = client_for(cast.agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert "Usar plantilla" not in html and "data-wa-picker" not in html


def test_free_text_after_24_hours_is_refused_on_the_page(cast, old_ticket):
    ticket, _approved = old_ticket
    response = client_for(cast.agent).post(
        f"/tickets/{ticket.number}/reply/", {"text": "¿Sigues ahí?"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "solo puedes responder con una plantilla aprobada" in html
    assert "Enviar plantilla" in html
    with tenant_context(cast.tenant_a.pk):
        assert not Message.objects.filter(ticket=ticket, direction=Direction.OUT).exists()


def test_the_agent_sends_a_template_from_the_page(cast, old_ticket):
    ticket, approved = old_ticket
    response = client_for(cast.agent).post(
        f"/tickets/{ticket.number}/reply/template/",
        {
            "template": approved.pk,
            f"param-{approved.pk}-1": "Ana",
            f"param-{approved.pk}-2": "10388",
            f"param-{approved.pk}-3": "el lunes",
        },
    )
    assert response.status_code == 302
    with tenant_context(cast.tenant_a.pk):
        sent = Message.objects.get(ticket=ticket, direction=Direction.OUT)
        assert sent.text == "Hola Ana, tu pedido 10388 llega el el lunes."
        assert sent.author_id == cast.agent.pk
    history = client_for(cast.agent).get(f"/tickets/{ticket.number}/tab/historial/")
    assert f"Plantilla de WhatsApp «{approved.name}» enviada" in history.content.decode()


def test_a_refused_template_keeps_what_was_typed(cast, old_ticket):
    ticket, approved = old_ticket
    response = client_for(cast.agent).post(
        f"/tickets/{ticket.number}/reply/template/",
        {"template": approved.pk, f"param-{approved.pk}-1": "Ana"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "Completa el parámetro {{2}}" in html
    assert f'name="param-{approved.pk}-1" value="Ana"' in html


def test_another_tenants_template_is_a_404(cast, old_ticket):
    ticket, _approved = old_ticket
    with tenant_context(cast.tenant_b.pk):
        foreign = _template(_whatsapp(cast.tenant_b))
    response = client_for(cast.agent).post(
        f"/tickets/{ticket.number}/reply/template/",
        {"template": foreign.pk, f"param-{foreign.pk}-1": "x"},
    )
    assert response.status_code == 404
    outsider = client_for(cast.outsider).post(
        f"/tickets/{ticket.number}/reply/template/", {"template": foreign.pk}
    )
    assert outsider.status_code == 404
    with bypass_context():
        assert not Message.all_tenants.filter(direction=Direction.OUT).exists()


# --- the new-ticket page ---------------------------------------------------------------------


def test_the_new_ticket_page_offers_the_approved_templates(cast):
    with tenant_context(cast.tenant_a.pk):
        account = _whatsapp(cast.tenant_a)
        approved = _template(account)
        _template(account, name="borrador", status="PENDING")
    with tenant_context(cast.tenant_b.pk):
        _template(_whatsapp(cast.tenant_b), name="de_otra_empresa")
    html = client_for(cast.agent).get("/tickets/new/").content.decode()
    assert 'data-kind="whatsapp"' in html
    assert f'<option value="{approved.pk}" data-account="{account.pk}"' in html
    assert "borrador" not in html and "de_otra_empresa" not in html


def test_a_new_whatsapp_ticket_needs_a_template(cast):
    with tenant_context(cast.tenant_a.pk):
        account = _whatsapp(cast.tenant_a)
        _template(account)
    response = client_for(cast.agent).post(
        "/tickets/new/", {"account": account.pk, "identity": PHONE, "text": "Hola"}
    )
    assert response.status_code == 200
    assert "Por WhatsApp el primer mensaje es una plantilla aprobada" in response.content.decode()
    with tenant_context(cast.tenant_a.pk):
        assert not Ticket.objects.exists()


def test_a_new_whatsapp_ticket_starts_with_the_filled_template(cast):
    with tenant_context(cast.tenant_a.pk):
        account = _whatsapp(cast.tenant_a)
        approved = _template(account)
    response = client_for(cast.agent).post(
        "/tickets/new/",
        {
            "account": account.pk,
            "identity": PHONE,
            "name": "Ana",
            "template": approved.pk,
            f"param-{approved.pk}-1": "Ana",
            f"param-{approved.pk}-2": "10388",
            f"param-{approved.pk}-3": "lunes",
        },
    )
    assert response.status_code == 302
    with tenant_context(cast.tenant_a.pk):
        ticket = Ticket.objects.get()
        message = ticket.messages.get()
        assert message.text == "Hola Ana, tu pedido 10388 llega el lunes."
        assert (templates.sent_template(message) or {})["params"] == ["Ana", "10388", "lunes"]
        assert ticket.assignee_id == cast.agent.pk


def test_a_missing_parameter_on_the_new_ticket_page_keeps_the_form(cast):
    with tenant_context(cast.tenant_a.pk):
        account = _whatsapp(cast.tenant_a)
        approved = _template(account)
    response = client_for(cast.agent).post(
        "/tickets/new/",
        {
            "account": account.pk,
            "identity": PHONE,
            "template": approved.pk,
            f"param-{approved.pk}-1": "Ana",
            f"param-{approved.pk}-3": "lunes",
        },
    )
    html = response.content.decode()
    assert "Completa el parámetro {{2}}" in html
    assert f'name="param-{approved.pk}-3" value="lunes"' in html


def test_a_template_of_another_account_or_tenant_is_refused_on_the_new_ticket_page(cast):
    with tenant_context(cast.tenant_a.pk):
        account = _whatsapp(cast.tenant_a)
        other = _template(_whatsapp(cast.tenant_a, name="+56 2 2999 0000"))
    with tenant_context(cast.tenant_b.pk):
        foreign = _template(_whatsapp(cast.tenant_b))
    client = client_for(cast.agent)
    for template, error in (
        (other, "Esa plantilla es de otra cuenta de WhatsApp."),
        (foreign, "Elige una plantilla aprobada de la lista."),
    ):
        response = client.post(
            "/tickets/new/",
            {
                "account": account.pk,
                "identity": PHONE,
                "template": template.pk,
                f"param-{template.pk}-1": "a",
                f"param-{template.pk}-2": "b",
                f"param-{template.pk}-3": "c",
            },
        )
        assert error in response.content.decode()
    with tenant_context(cast.tenant_a.pk):
        assert not Ticket.objects.exists()


def test_an_email_ticket_still_needs_its_text(cast):
    with tenant_context(cast.tenant_a.pk):
        email: ChannelAccount = ChannelAccountFactory(tenant=cast.tenant_a, kind=ChannelKind.EMAIL)
    response = client_for(cast.agent).post(
        "/tickets/new/", {"account": email.pk, "identity": "ana@example.test", "text": " "}
    )
    assert "Escribe el primer mensaje." in response.content.decode()


def test_sending_without_choosing_a_template_says_so(cast, old_ticket):
    ticket, _approved = old_ticket
    response = client_for(cast.agent).post(
        f"/tickets/{ticket.number}/reply/template/", {"template": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Elige una plantilla aprobada de la lista." in response.content.decode()
