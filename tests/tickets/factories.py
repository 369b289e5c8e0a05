"""Factories of the tickets domain. Child factories take their tenant from their parent.

Create rows inside ``tenant_context(tenant.pk)`` (or ``bypass_context()``): row-level security
refuses rows of any other tenant."""

from __future__ import annotations

import factory

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import FieldType, ForbiddenWord, MetadataField, TenantSettings
from helpdesk.models import Role
from tests.factories import TenantFactory, UserFactory
from tickets.models import (
    AuthorKind,
    Customer,
    CustomerIdentity,
    DeliveryStatus,
    Direction,
    IdentityKind,
    Message,
    Ticket,
)


class BotUserFactory(UserFactory):
    """The tenant's bot (one per tenant), as ``helpdesk.services.tenant_create`` makes it."""

    email = factory.LazyAttribute(lambda o: f"bot+{o.tenant.slug}@bots.invalid")
    name = "Bot"
    role = Role.AGENT
    is_bot = True


class ChannelAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelAccount

    tenant = factory.SubFactory(TenantFactory)
    kind = ChannelKind.EMAIL
    name = factory.Sequence(lambda n: f"Cuenta {n}")
    sla_minutes = 60


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Faker("name", locale="es_CL")


class CustomerIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerIdentity

    customer = factory.SubFactory(CustomerFactory)
    tenant = factory.SelfAttribute("customer.tenant")
    kind = IdentityKind.EMAIL
    value = factory.Sequence(lambda n: f"cliente{n}@example.test")
    display = factory.SelfAttribute("value")


class TicketFactory(factory.django.DjangoModelFactory):
    """A bare ticket row. Its number comes from a sequence, not from the tenant's counter:
    tests that care about numbering create tickets through the services."""

    class Meta:
        model = Ticket

    account = factory.SubFactory(ChannelAccountFactory)
    tenant = factory.SelfAttribute("account.tenant")
    customer = factory.SubFactory(CustomerFactory, tenant=factory.SelfAttribute("..tenant"))
    number = factory.Sequence(lambda n: 10_000 + n)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    tenant = factory.SelfAttribute("ticket.tenant")
    account = factory.SelfAttribute("ticket.account")
    direction = Direction.IN
    author_kind = AuthorKind.CUSTOMER
    status = DeliveryStatus.RECEIVED
    text = factory.Faker("sentence", locale="es_CL")


class MetadataFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetadataField

    tenant = factory.SubFactory(TenantFactory)
    target = MetadataField.Target.TICKET
    key = factory.Sequence(lambda n: f"campo_{n}")
    label = factory.LazyAttribute(lambda o: o.key.replace("_", " ").capitalize())
    field_type = FieldType.TEXT
    position = factory.Sequence(int)


class ForbiddenWordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForbiddenWord

    tenant = factory.SubFactory(TenantFactory)
    word = factory.Sequence(lambda n: f"palabrota{n}")


class TenantSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantSettings
        django_get_or_create = ("tenant",)

    tenant = factory.SubFactory(TenantFactory)
    reopen_window_hours = 0
