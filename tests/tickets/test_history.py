"""Every service writes its history event: kind, actor, and the before/after data."""

from __future__ import annotations

import datetime
import inspect

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from channels_conn.whatsapp.templates import ticket_create_with_template
from deskconfig.kinds import ChannelKind
from deskconfig.models import FieldType, MetadataField, WhatsAppTemplate
from helpdesk.models import Notification
from helpdesk.tenancy import bypass_context
from tests.factories import UserFactory
from tests.tickets.factories import ChannelAccountFactory, MetadataFieldFactory
from tests.tickets.helpers import events, fresh, receive
from tickets import escalation, services
from tickets.models import (
    ActorKind,
    AuthorKind,
    Comment,
    CommentMention,
    Customer,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    Sentiment,
    Ticket,
    TicketStatus,
)

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2025, 3, 3, 12, 0, tzinfo=datetime.UTC)


# --- receiving and sending -------------------------------------------------------------------


def test_message_receive_creates_the_ticket_with_created_and_message_in_events(account):
    received = receive(account, text="Hola, mi pedido no llegó", subject="Pedido 123")

    assert received.created is True
    message = received.message
    ticket = message.ticket
    assert ticket.number == 1
    assert ticket.status == TicketStatus.OPEN
    assert ticket.subject == "Pedido 123"
    assert ticket.awaiting_response is True
    assert ticket.last_message_preview == "Hola, mi pedido no llegó"
    assert message.direction == Direction.IN
    assert message.author_kind == AuthorKind.CUSTOMER
    assert message.status == DeliveryStatus.RECEIVED
    created, message_in = events(ticket)
    assert (created.kind, created.actor_kind, created.actor) == (
        EventKind.CREATED,
        ActorKind.SYSTEM,
        None,
    )
    assert created.data == {"account": "Soporte"}
    assert message_in.kind == EventKind.MESSAGE_IN
    assert message_in.actor_kind == ActorKind.SYSTEM
    assert message_in.data == {"message": message.pk}


def test_a_second_customer_message_joins_the_open_ticket_with_one_more_message_in(account):
    first = receive(account, text="Hola").message
    second = receive(account, text="¿Alguien?").message

    assert second.ticket_id == first.ticket_id
    assert [e.kind for e in events(first.ticket)] == [
        EventKind.CREATED,
        EventKind.MESSAGE_IN,
        EventKind.MESSAGE_IN,
    ]
    assert Ticket.objects.count() == 1


def test_message_send_writes_message_out_by_the_agent(account, in_a):
    ticket = receive(account).message.ticket

    reply = services.message_send(ticket=ticket, author=in_a.agent, text="  Hola, te ayudo  ")

    assert reply.text == "Hola, te ayudo"
    assert reply.direction == Direction.OUT
    assert reply.author_kind == AuthorKind.AGENT
    assert reply.status == DeliveryStatus.QUEUED
    (out,) = events(ticket, EventKind.MESSAGE_OUT)
    assert (out.actor, out.actor_kind) == (in_a.agent, ActorKind.USER)
    assert out.data == {"message": reply.pk, "public": False}
    ticket = fresh(ticket)
    assert ticket.addressed is True
    assert ticket.awaiting_response is False
    assert ticket.last_message_preview == "Hola, te ayudo"


def test_answering_a_waiting_ticket_records_the_sla_event_with_response_time(account, in_a):
    with time_machine.travel(T0, tick=False):
        ticket = receive(account).message.ticket
    with time_machine.travel(T0 + datetime.timedelta(minutes=10), tick=False):
        services.message_send(ticket=ticket, author=in_a.agent, text="Aquí estoy")

    (sla,) = events(ticket, EventKind.SLA)
    assert sla.actor == in_a.agent
    assert sla.data == {"response_seconds": 600, "late": False}


def test_a_late_answer_is_recorded_late(account, in_a):
    with time_machine.travel(T0, tick=False):
        ticket = receive(account).message.ticket
    with time_machine.travel(T0 + datetime.timedelta(minutes=90), tick=False):
        services.message_send(ticket=ticket, author=in_a.agent, text="Perdón la demora")

    (sla,) = events(ticket, EventKind.SLA)
    assert sla.data == {"response_seconds": 5400, "late": True}


def test_a_second_answer_without_a_new_customer_message_records_no_sla_event(account, in_a):
    ticket = receive(account).message.ticket
    services.message_send(ticket=ticket, author=in_a.agent, text="Uno")
    services.message_send(ticket=ticket, author=in_a.agent, text="Dos")

    assert len(events(ticket, EventKind.SLA)) == 1
    assert len(events(ticket, EventKind.MESSAGE_OUT)) == 2


def test_an_empty_reply_is_refused(account, in_a):
    ticket = receive(account).message.ticket
    with pytest.raises(services.ActionRefused, match="Escribe un mensaje"):
        services.message_send(ticket=ticket, author=in_a.agent, text="   ")
    assert not Message.objects.filter(direction=Direction.OUT).exists()


# --- assignment -----------------------------------------------------------------------------


def test_assign_to_a_person_records_before_after_and_notifies_them(account, in_a):
    ticket = receive(account).message.ticket

    services.ticket_assign(ticket=ticket, assignee=in_a.agent, actor=in_a.admin)

    assert fresh(ticket).assignee == in_a.agent
    (event,) = events(ticket, EventKind.ASSIGNED)
    assert (event.actor, event.actor_kind) == (in_a.admin, ActorKind.USER)
    assert event.data == {"before": None, "after": in_a.agent.pk, "after_name": str(in_a.agent)}
    note = Notification.objects.get(user=in_a.agent)
    assert f"#{ticket.number}" in note.text
    assert note.url == f"/tickets/{ticket.number}/"


def test_assign_to_the_tenant_bot_and_then_to_nobody(account, in_a, bot):
    ticket = receive(account).message.ticket
    services.ticket_assign(ticket=ticket, assignee=in_a.agent, actor=in_a.agent)

    services.ticket_assign(ticket=ticket, assignee=bot, actor=in_a.agent)
    assert fresh(ticket).assignee == bot
    services.ticket_assign(ticket=ticket, assignee=None, actor=in_a.agent)
    assert fresh(ticket).assignee is None

    _first, to_bot, to_nobody = events(ticket, EventKind.ASSIGNED)
    assert to_bot.data == {"before": in_a.agent.pk, "after": bot.pk, "after_name": "Bot"}
    assert to_nobody.data == {"before": bot.pk, "after": None, "after_name": ""}
    # Nobody is told: the agent assigned themselves, bots and nobody have no bell.
    assert not Notification.objects.exists()


def test_the_bot_as_actor_is_recorded_as_a_bot(account, in_a, bot):
    ticket = receive(account).message.ticket
    services.ticket_assign(ticket=ticket, assignee=in_a.agent, actor=bot)
    (event,) = events(ticket, EventKind.ASSIGNED)
    assert (event.actor, event.actor_kind) == (bot, ActorKind.BOT)


def test_assigning_the_same_person_again_writes_nothing(account, in_a):
    ticket = receive(account).message.ticket
    services.ticket_assign(ticket=ticket, assignee=in_a.agent, actor=in_a.admin)
    services.ticket_assign(ticket=ticket, assignee=in_a.agent, actor=in_a.admin)
    assert len(events(ticket, EventKind.ASSIGNED)) == 1


def test_assigning_someone_of_another_tenant_or_inactive_is_refused(account, in_a):
    ticket = receive(account).message.ticket
    with bypass_context():
        gone = UserFactory(tenant=in_a.tenant_a, is_active=False)
    for person in (in_a.outsider, gone):
        with pytest.raises(services.ActionRefused):
            services.ticket_assign(ticket=ticket, assignee=person, actor=in_a.admin)
    assert fresh(ticket).assignee is None
    assert not events(ticket, EventKind.ASSIGNED)


# --- close, reopen ----------------------------------------------------------------------------


def test_closing_an_addressed_ticket_closes_it(account, in_a):
    ticket = receive(account).message.ticket
    services.message_send(ticket=ticket, author=in_a.agent, text="Listo")
    ticket = fresh(ticket)
    assert ticket.close_label == "Cerrar"

    ticket = services.ticket_close(ticket=ticket, actor=in_a.agent)

    assert ticket.status == TicketStatus.CLOSED
    assert ticket.closed_at is not None
    (event,) = events(ticket, EventKind.STATUS)
    assert (event.actor, event.actor_kind) == (in_a.agent, ActorKind.USER)
    assert event.data == {"before": TicketStatus.OPEN, "after": TicketStatus.CLOSED}


def test_closing_a_ticket_nobody_answered_ignores_it(account, in_a):
    ticket = receive(account).message.ticket
    assert ticket.close_label == "Ignorar"

    ticket = services.ticket_close(ticket=ticket, actor=in_a.agent)

    assert ticket.status == TicketStatus.IGNORED
    assert ticket.awaiting_response is False
    assert ticket.waiting_since is None and ticket.sla_due_at is None
    (event,) = events(ticket, EventKind.STATUS)
    assert event.data == {"before": TicketStatus.OPEN, "after": TicketStatus.IGNORED}


def test_a_bot_answer_does_not_make_a_ticket_addressed(account, in_a, bot):
    ticket = receive(account).message.ticket
    services.message_send(ticket=ticket, author=bot, text="Soy el bot")
    assert fresh(ticket).close_label == "Ignorar"
    assert services.ticket_close(ticket=ticket, actor=in_a.agent).status == TicketStatus.IGNORED


def test_closing_twice_is_refused(account, in_a):
    ticket = receive(account).message.ticket
    services.ticket_close(ticket=ticket, actor=in_a.agent)
    with pytest.raises(services.ActionRefused, match="ya no está abierto"):
        services.ticket_close(ticket=ticket, actor=in_a.agent)
    assert len(events(ticket, EventKind.STATUS)) == 1


def test_reopen_records_the_status_change(account, in_a):
    ticket = receive(account).message.ticket
    services.ticket_close(ticket=ticket, actor=in_a.agent)

    ticket = services.ticket_reopen(ticket=ticket, actor=in_a.admin)

    assert ticket.status == TicketStatus.OPEN
    assert ticket.closed_at is None
    _closing, reopening = events(ticket, EventKind.STATUS)
    assert (reopening.actor, reopening.actor_kind) == (in_a.admin, ActorKind.USER)
    assert reopening.data == {"before": TicketStatus.IGNORED, "after": TicketStatus.OPEN}
    # Reopening an open ticket is a no-op.
    services.ticket_reopen(ticket=ticket, actor=in_a.admin)
    assert len(events(ticket, EventKind.STATUS)) == 2


def test_reopen_is_refused_when_the_customer_has_another_open_ticket(account, in_a):
    old = receive(account).message.ticket
    services.ticket_close(ticket=old, actor=in_a.agent)
    receive(account, text="Otra cosa")  # a new ticket, open
    with pytest.raises(services.ActionRefused, match="ya tiene un ticket abierto"):
        services.ticket_reopen(ticket=old, actor=in_a.agent)
    assert fresh(old).status == TicketStatus.IGNORED


# --- important, sentiment -------------------------------------------------------------------


def test_mark_important_once_writes_one_event_and_a_second_mark_changes_nothing(account, in_a):
    ticket = receive(account).message.ticket

    services.ticket_mark_important(ticket=ticket, actor=in_a.agent)
    services.ticket_mark_important(ticket=ticket, actor=in_a.admin)

    assert fresh(ticket).important is True
    (event,) = events(ticket, EventKind.IMPORTANT)
    assert (event.actor, event.data) == (in_a.agent, {"before": False, "after": True})


def test_important_is_never_unset_by_any_other_service(account, in_a, bot):
    ticket = receive(account).message.ticket
    services.ticket_mark_important(ticket=ticket, actor=in_a.agent)

    services.ticket_set_sentiment(ticket=ticket, actor=in_a.agent, sentiment=Sentiment.HAPPY)
    services.ticket_assign(ticket=ticket, assignee=bot, actor=in_a.agent)
    services.ticket_set_metadata(ticket=ticket, actor=in_a.agent, values={})
    services.comment_add(ticket=ticket, author=in_a.agent, text="nota")
    services.message_send(ticket=ticket, author=in_a.agent, text="Hola")
    receive(account, text="Gracias")
    services.ticket_close(ticket=ticket, actor=in_a.agent)
    services.ticket_reopen(ticket=ticket, actor=in_a.agent)
    other = receive(ChannelAccountFactory(tenant=in_a.tenant_a), text="Por otro lado").message
    services.ticket_merge(source=other.ticket, target=ticket, actor=in_a.agent)

    assert fresh(ticket).important is True
    assert len(events(ticket, EventKind.IMPORTANT)) == 1
    # No service takes an argument that could unset it.
    writers = [
        getattr(services, name)
        for name in dir(services)
        if name.startswith(("ticket_", "message_", "customer_", "comment_"))
    ]
    assert not any("important" in inspect.signature(w).parameters for w in writers)


def test_set_sentiment_records_before_and_after_and_refuses_unknown_values(account, in_a):
    ticket = receive(account).message.ticket

    services.ticket_set_sentiment(ticket=ticket, actor=in_a.agent, sentiment=Sentiment.ANGRY)
    services.ticket_set_sentiment(ticket=ticket, actor=in_a.agent, sentiment=Sentiment.ANGRY)
    with pytest.raises(services.ActionRefused):
        services.ticket_set_sentiment(ticket=ticket, actor=in_a.agent, sentiment="furious")

    assert fresh(ticket).sentiment == Sentiment.ANGRY
    (event,) = events(ticket, EventKind.SENTIMENT)
    assert (event.actor, event.data) == (in_a.agent, {"before": "neutral", "after": "angry"})


# --- ticket metadata (typification) ---------------------------------------------------------


@pytest.fixture
def ticket_fields(in_a):
    def field(key, field_type, **kw):
        return MetadataFieldFactory(
            tenant=in_a.tenant_a,
            target=MetadataField.Target.TICKET,
            key=key,
            label=kw.pop("label", key.capitalize()),
            field_type=field_type,
            **kw,
        )

    return {
        "motivo": field("motivo", FieldType.CHOICE, choices=["Reclamo", "Consulta"]),
        "productos": field("productos", FieldType.MULTI, choices=["A", "B", "C"]),
        "monto": field("monto", FieldType.NUMBER),
        "fecha": field("fecha", FieldType.DATE),
        "urgente": field("urgente", FieldType.BOOL),
        "detalle": field("detalle", FieldType.TEXT),
    }


def test_set_metadata_stores_validated_values_of_every_type(account, in_a, ticket_fields):
    ticket = receive(account).message.ticket

    services.ticket_set_metadata(
        ticket=ticket,
        actor=in_a.agent,
        values={
            "motivo": "Reclamo",
            "productos": ["C", "A"],
            "monto": "1500,50",
            "fecha": "2025-03-01",
            "urgente": "sí",
            "detalle": "  llegó roto  ",
            "desconocido": "se ignora",
        },
    )

    expected = {
        "motivo": "Reclamo",
        "productos": ["A", "C"],  # in the field's order
        "monto": 1500.5,
        "fecha": "2025-03-01",
        "urgente": True,
        "detalle": "llegó roto",
    }
    assert fresh(ticket).metadata == expected
    (event,) = events(ticket, EventKind.METADATA)
    assert (event.actor, event.data) == (in_a.agent, {"before": {}, "after": expected})


def test_set_metadata_records_before_and_after_on_a_change(account, in_a, ticket_fields):
    ticket = receive(account).message.ticket
    services.ticket_set_metadata(ticket=ticket, actor=in_a.agent, values={"monto": "3"})
    services.ticket_set_metadata(ticket=ticket, actor=in_a.agent, values={"monto": "3"})
    services.ticket_set_metadata(ticket=ticket, actor=in_a.agent, values={"monto": 4})

    first, second = events(ticket, EventKind.METADATA)
    assert first.data == {"before": {}, "after": {"monto": 3}}
    assert second.data == {"before": {"monto": 3}, "after": {"monto": 4}}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("motivo", "Felicitación"),
        ("productos", ["A", "Z"]),
        ("monto", "mil"),
        ("monto", "NaN"),
        ("monto", "Infinity"),
        ("monto", "1e999999"),
        ("fecha", "31/12/2025"),
        ("urgente", "quizás"),
    ],
)
def test_set_metadata_refuses_invalid_values_naming_the_field(
    account, in_a, ticket_fields, key, value
):
    ticket = receive(account).message.ticket
    with pytest.raises(ValidationError) as err:
        services.ticket_set_metadata(ticket=ticket, actor=in_a.agent, values={key: value})
    assert list(err.value.message_dict) == [key]
    assert fresh(ticket).metadata == {}
    assert not events(ticket, EventKind.METADATA)


def test_inactive_fields_are_not_stored(account, in_a):
    MetadataFieldFactory(tenant=in_a.tenant_a, key="viejo", active=False)
    ticket = receive(account).message.ticket
    services.ticket_set_metadata(ticket=ticket, actor=in_a.agent, values={"viejo": "x"})
    assert fresh(ticket).metadata == {}


def test_a_required_field_blocks_closing_an_addressed_ticket_but_not_ignoring(account, in_a):
    MetadataFieldFactory(
        tenant=in_a.tenant_a,
        key="motivo",
        label="Motivo",
        field_type=FieldType.CHOICE,
        choices=["Reclamo", "Consulta"],
        required=True,
    )
    ignored = receive(account, identity="nadie@example.test").message.ticket
    assert services.ticket_close(ticket=ignored, actor=in_a.agent).status == "ignored"

    ticket = receive(account).message.ticket
    services.message_send(ticket=ticket, author=in_a.agent, text="Hola")
    with pytest.raises(services.ActionRefused, match="Motivo"):
        services.ticket_close(ticket=ticket, actor=in_a.agent)
    assert fresh(ticket).status == TicketStatus.OPEN

    services.ticket_set_metadata(ticket=ticket, actor=in_a.agent, values={"motivo": "Consulta"})
    assert services.ticket_close(ticket=ticket, actor=in_a.agent).status == TicketStatus.CLOSED


# --- customers ------------------------------------------------------------------------------


def test_customer_set_metadata_validates_and_records_on_open_tickets(account, in_a):
    MetadataFieldFactory(
        tenant=in_a.tenant_a,
        target=MetadataField.Target.CUSTOMER,
        key="plan",
        field_type=FieldType.CHOICE,
        choices=["Oro", "Plata"],
    )
    MetadataFieldFactory(
        tenant=in_a.tenant_a,
        target=MetadataField.Target.CUSTOMER,
        key="cliente_desde",
        field_type=FieldType.DATE,
    )
    ticket = receive(account).message.ticket
    customer = ticket.customer

    services.customer_set_metadata(
        customer=customer, actor=in_a.agent, values={"plan": "Oro", "cliente_desde": "2020-01-31"}
    )
    with pytest.raises(ValidationError) as err:
        services.customer_set_metadata(
            customer=customer, actor=in_a.agent, values={"plan": "Bronce"}
        )

    assert list(err.value.message_dict) == ["plan"]
    after = {"plan": "Oro", "cliente_desde": "2020-01-31"}
    assert fresh(customer).metadata == after
    (event,) = events(ticket, EventKind.CUSTOMER_METADATA)
    assert (event.actor, event.data) == (in_a.agent, {"before": {}, "after": after})


def test_customer_update_normalizes_the_rut(account, in_a):
    ticket = receive(account, customer_name="Ana").message.ticket

    customer = services.customer_update(
        customer=ticket.customer, actor=in_a.agent, name="  Ana Pérez ", rut="12.345.678-5"
    )

    assert (customer.name, customer.rut) == ("Ana Pérez", "123456785")
    (event,) = events(ticket, EventKind.CUSTOMER_METADATA)
    assert event.data == {
        "before": {"name": "Ana", "rut": ""},
        "after": {"name": "Ana Pérez", "rut": "123456785"},
    }


@pytest.mark.parametrize("rut", ["12.345.678-4", "abc", "1-2"])
def test_customer_update_refuses_an_invalid_rut(account, in_a, rut):
    customer = receive(account, customer_name="Ana").message.ticket.customer
    with pytest.raises(services.ActionRefused, match="no es válido"):
        services.customer_update(customer=customer, actor=in_a.agent, name="Otra", rut=rut)
    assert (fresh(customer).name, customer.rut) == ("Ana", "")


def test_customer_set_bot_disables_and_enables_with_events(account, in_a):
    ticket = receive(account).message.ticket
    customer = ticket.customer

    services.customer_set_bot(customer=customer, actor=in_a.agent, enabled=False)
    assert fresh(customer).bot_disabled is True
    services.customer_set_bot(customer=customer, actor=in_a.admin, enabled=True)
    assert fresh(customer).bot_disabled is False

    off, on = events(ticket, EventKind.BOT)
    assert (off.actor, off.data) == (in_a.agent, {"enabled": False})
    assert (on.actor, on.data) == (in_a.admin, {"enabled": True})


# --- comments and mentions ------------------------------------------------------------------


@pytest.fixture
def colleagues(in_a):
    with bypass_context():
        nivel2 = UserFactory(tenant=in_a.tenant_a, email="nivel2@a.test", name="Nivel2 Rojas")
        supervisor = UserFactory(
            tenant=in_a.tenant_a, email="supervisor@a.test", name="Supervisora Díaz"
        )
    return nivel2, supervisor


def test_comment_with_mentions_notifies_the_mentioned_people(account, in_a, colleagues):
    nivel2, supervisor = colleagues
    ticket = receive(account).message.ticket

    comment = services.comment_add(
        ticket=ticket,
        author=in_a.agent,
        text="@nivel2 revisa esto con @supervisor@a.test, y @nadie. Yo (@agent) no me aviso.",
    )

    assert Comment.objects.get() == comment
    assert set(comment.mentions.all()) == {nivel2, supervisor}
    assert CommentMention.objects.count() == 2
    assert set(Notification.objects.values_list("user_id", flat=True)) == {nivel2.pk, supervisor.pk}
    note = Notification.objects.get(user=nivel2)
    assert f"#{ticket.number}" in note.text and str(in_a.agent) in note.text
    assert fresh(ticket).has_comments is True
    (event,) = events(ticket, EventKind.COMMENT)
    assert (event.actor, event.actor_kind) == (in_a.agent, ActorKind.USER)
    assert event.data["comment"] == comment.pk
    assert sorted(event.data["mentions"]) == sorted([nivel2.pk, supervisor.pk])


def test_a_mention_at_the_end_of_a_sentence_is_found(account, in_a, colleagues):
    nivel2, supervisor = colleagues
    ticket = receive(account).message.ticket
    comment = services.comment_add(ticket=ticket, author=in_a.agent, text="Mira esto, @Nivel2.")
    assert list(comment.mentions.all()) == [nivel2]
    comment = services.comment_add(
        ticket=ticket, author=in_a.agent, text="Y tú, @supervisor@a.test."
    )
    assert list(comment.mentions.all()) == [supervisor]


def test_people_of_another_tenant_are_never_mentioned(account, in_a):
    ticket = receive(account).message.ticket
    comment = services.comment_add(ticket=ticket, author=in_a.agent, text="Hola @admin@b.test")
    assert not comment.mentions.exists()
    with bypass_context():
        assert not Notification.all_tenants.filter(user=in_a.outsider).exists()


def test_an_empty_comment_is_refused(account, in_a):
    ticket = receive(account).message.ticket
    with pytest.raises(services.ActionRefused):
        services.comment_add(ticket=ticket, author=in_a.agent, text="  ")
    assert not Comment.objects.exists()


# --- escalation -----------------------------------------------------------------------------


def test_escalate_records_where_and_emails_the_last_messages_and_the_note(
    account, in_a, django_capture_on_commit_callbacks, eager_celery
):
    ticket = receive(account, customer_name="Ana Pérez", text="Mi pedido llegó roto").message.ticket
    services.message_send(ticket=ticket, author=in_a.agent, text="Lo revisamos")
    receive(account, text="Sigo esperando la devolución")

    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_escalate(
            ticket=ticket, actor=in_a.agent, to="jefa@proveedor.test", note="Urgente, por favor"
        )

    ticket = fresh(ticket)
    assert ticket.escalated_to == "jefa@proveedor.test"
    assert ticket.escalated_at is not None
    (event,) = events(ticket, EventKind.ESCALATED)
    assert (event.actor, event.data) == (
        in_a.agent,
        {"to": "jefa@proveedor.test", "note": "Urgente, por favor"},
    )
    (email,) = mail.outbox
    assert email.to == ["jefa@proveedor.test"]
    assert email.reply_to == [in_a.agent.email]
    assert f"#{ticket.number}" in email.subject and "Ana Pérez" in email.subject
    for text in ("Urgente, por favor", "Mi pedido llegó roto", "Lo revisamos", "Sigo esperando"):
        assert text in email.body
    assert email.body.index("Mi pedido llegó roto") < email.body.index("Sigo esperando")


def test_the_escalation_email_is_the_escalation_module_sending_it(account, in_a):
    """The task is a thin wrapper: the module alone builds and sends the email."""
    ticket = receive(account, text="Hola").message.ticket
    escalation.send(ticket_id=ticket.pk, actor_id=in_a.agent.pk, to="x@y.test", note="nota")
    (email,) = mail.outbox
    assert "Hola" in email.body and "nota" in email.body


def test_escalate_refuses_an_invalid_email(account, in_a):
    ticket = receive(account).message.ticket
    with pytest.raises(services.ActionRefused, match="no es un correo"):
        services.ticket_escalate(ticket=ticket, actor=in_a.agent, to="no-es-correo", note="")
    assert fresh(ticket).escalated_to == ""
    assert not events(ticket, EventKind.ESCALATED)


# --- proactive tickets ----------------------------------------------------------------------


def test_ticket_create_assigns_the_creator_and_queues_the_first_message(
    account, in_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = services.ticket_create(
            account=account,
            identity="Nuevo@Example.test",
            author=in_a.agent,
            text="Hola, le escribimos por su pedido",
            customer_name="Cliente Nuevo",
        )

    assert ticket.assignee == in_a.agent
    assert ticket.customer.name == "Cliente Nuevo"
    assert ticket.customer.identities.get().value == "nuevo@example.test"
    (message,) = Message.objects.filter(ticket=ticket)
    assert message.direction == Direction.OUT
    assert message.status == DeliveryStatus.QUEUED
    assert message.author == in_a.agent
    assert message.is_public is False
    assert message.text == "Hola, le escribimos por su pedido"
    created, assigned = events(ticket, EventKind.CREATED) + events(ticket, EventKind.ASSIGNED)
    assert (created.actor, created.data) == (in_a.agent, {"account": "Soporte", "proactive": True})
    assert assigned.data == {
        "before": None,
        "after": in_a.agent.pk,
        "after_name": str(in_a.agent),
    }
    assert len(events(ticket, EventKind.MESSAGE_OUT)) == 1
    assert callbacks, "the delivery is queued for after the commit"


def test_ticket_create_is_refused_when_the_customer_has_an_open_ticket(account, in_a):
    receive(account, identity="ana@example.test")
    with pytest.raises(services.ActionRefused, match="ya tiene un ticket abierto"):
        services.ticket_create(
            account=account, identity="ana@example.test", author=in_a.agent, text="Hola"
        )
    assert Ticket.objects.count() == 1


def test_ticket_create_links_the_previous_ticket_of_the_customer(account, in_a):
    old = receive(account, identity="ana@example.test").message.ticket
    services.ticket_close(ticket=old, actor=in_a.agent)
    new = services.ticket_create(
        account=account, identity="ana@example.test", author=in_a.agent, text="Seguimiento"
    )
    assert new.previous_ticket == old
    assert new.number == old.number + 1


def test_ticket_create_on_whatsapp_normalizes_the_phone(in_a):
    whatsapp = ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.WHATSAPP)
    template = WhatsAppTemplate.objects.create(
        tenant=in_a.tenant_a,
        account=whatsapp,
        name="saludo",
        body="Hola {{1}}",
        status=WhatsAppTemplate.Status.APPROVED,
    )
    ticket = ticket_create_with_template(
        account=whatsapp,
        identity="+56 9 1234 5678",
        author=in_a.agent,
        template=template,
        params=["Ana"],
    )
    identity = ticket.customer.identities.get()
    assert (identity.kind, identity.value, identity.display) == (
        "phone",
        "56912345678",
        "+56912345678",
    )
    assert Customer.objects.count() == 1
