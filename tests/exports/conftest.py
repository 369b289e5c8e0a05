"""A small desk in tenant A to export: two accounts, two departments, customers with
identities, tickets of every kind of state and their messages, all in the last few days."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import Department, FieldType, MetadataField
from helpdesk.models import User
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import Cast
from tests.tickets.factories import BotUserFactory
from tickets.models import (
    Attachment,
    AuthorKind,
    Customer,
    CustomerIdentity,
    DeliveryStatus,
    Direction,
    IdentityKind,
    Message,
    Ticket,
    TicketStatus,
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Export files are written under the test's own temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@dataclass
class Desk:
    cast: Cast
    bot: User
    email: ChannelAccount
    whatsapp: ChannelAccount
    sales: Department
    support: Department
    ana: Customer
    beto: Customer
    reason: MetadataField
    tags: MetadataField
    tickets: list[Ticket] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)


def _ticket(desk: Desk, number: int, **values: Any) -> Ticket:
    now = timezone.now()
    defaults: dict[str, Any] = {
        "account": desk.email,
        "customer": desk.ana,
        "created_at": now - datetime.timedelta(hours=number),
        "updated_at": now - datetime.timedelta(minutes=number),
    }
    ticket = Ticket.objects.create(number=number, **(defaults | values))
    desk.tickets.append(ticket)
    return ticket


def _message(desk: Desk, ticket: Ticket, text: str, **values: Any) -> Message:
    defaults: dict[str, Any] = {
        "account": ticket.account,
        "direction": Direction.IN,
        "author_kind": AuthorKind.CUSTOMER,
        "status": DeliveryStatus.RECEIVED,
        "created_at": ticket.created_at + datetime.timedelta(minutes=5),
    }
    message = Message.objects.create(ticket=ticket, text=text, **(defaults | values))
    desk.messages.append(message)
    return message


@pytest.fixture
def desk(cast: Cast) -> Desk:
    with bypass_context():
        BotUserFactory(tenant=cast.tenant_a)
    with tenant_context(cast.tenant_a.pk):
        now = timezone.now()
        bot = User.objects.get(tenant=cast.tenant_a, is_bot=True)
        email = ChannelAccount.objects.create(kind=ChannelKind.EMAIL, name="Soporte correo")
        whatsapp = ChannelAccount.objects.create(kind=ChannelKind.WHATSAPP, name="Ventas WA")
        sales = Department.objects.create(name="Ventas")
        support = Department.objects.create(name="Soporte")
        ana = Customer.objects.create(name="Ana Pérez")
        beto = Customer.objects.create(name="Beto Soto")
        CustomerIdentity.objects.create(
            customer=ana, kind=IdentityKind.EMAIL, value="ana@example.test"
        )
        CustomerIdentity.objects.create(customer=ana, kind=IdentityKind.PHONE, value="56911112222")
        CustomerIdentity.objects.create(customer=beto, kind=IdentityKind.PHONE, value="56933334444")
        reason = MetadataField.objects.create(
            target=MetadataField.Target.TICKET,
            key="motivo",
            label="Motivo",
            field_type=FieldType.CHOICE,
            choices=["Reclamo", "Consulta"],
            position=1,
        )
        tags = MetadataField.objects.create(
            target=MetadataField.Target.TICKET,
            key="etiquetas",
            label="Etiquetas",
            field_type=FieldType.MULTI,
            choices=["vip", "web"],
            position=2,
        )
        desk = Desk(cast, bot, email, whatsapp, sales, support, ana, beto, reason, tags)
        agent = cast.agent
        t1 = _ticket(
            desk,
            1,
            assignee=agent,
            department=sales,
            addressed=True,
            first_response_at=now - datetime.timedelta(minutes=45),
            metadata={"motivo": "Reclamo", "etiquetas": ["vip", "web"]},
            important=True,
        )
        t2 = _ticket(
            desk,
            2,
            account=whatsapp,
            customer=beto,
            assignee=bot,
            awaiting_response=True,
            has_comments=True,
            sla_due_at=now - datetime.timedelta(hours=1),
            waiting_since=now - datetime.timedelta(hours=2),
            metadata={"motivo": "Consulta"},
        )
        t3 = _ticket(
            desk,
            3,
            status=TicketStatus.CLOSED,
            closed_at=now - datetime.timedelta(hours=1),
            department=support,
            addressed=True,
            assignee=cast.admin,
        )
        t4 = _ticket(
            desk,
            4,
            status=TicketStatus.IGNORED,
            customer=beto,
            awaiting_response=True,
            sla_due_at=now + datetime.timedelta(hours=5),
            sla_risk_at=now + datetime.timedelta(hours=4),
            waiting_since=now - datetime.timedelta(hours=1),
        )
        _ticket(
            desk,
            5,
            status=TicketStatus.OPEN,
            awaiting_response=True,
            sla_due_at=now + datetime.timedelta(hours=2),
            sla_risk_at=now - datetime.timedelta(minutes=30),
            waiting_since=now - datetime.timedelta(hours=3),
        )
        # Created long ago, updated today: only a range on the update date finds it.
        _ticket(desk, 6, created_at=now - datetime.timedelta(days=40))
        _message(desk, t1, "Hola, mi pedido no llegó")
        reply = _message(
            desk,
            t1,
            "Lo revisamos",
            direction=Direction.OUT,
            author_kind=AuthorKind.AGENT,
            author=agent,
            status=DeliveryStatus.DELIVERED,
            created_at=t1.created_at + datetime.timedelta(minutes=15),
        )
        Attachment.objects.create(
            message=reply, name="guia.pdf", size=10, content_type="application/pdf", sha256="0"
        )
        _message(desk, t2, "¿tienen stock? @tienda", is_public=True, is_mention=True)
        _message(
            desk,
            t2,
            "Elige un área",
            direction=Direction.OUT,
            author_kind=AuthorKind.BOT,
            author=bot,
            status=DeliveryStatus.FAILED,
            failure_reason="Ventana cerrada",
            created_at=t2.created_at + datetime.timedelta(minutes=7),
        )
        _message(
            desk,
            t3,
            "Resuelto",
            direction=Direction.OUT,
            author_kind=AuthorKind.AGENT,
            author=cast.admin,
            status=DeliveryStatus.READ,
            is_public=True,
        )
        _message(desk, t4, "Gracias")
        return desk
