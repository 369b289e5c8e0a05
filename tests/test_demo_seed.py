"""The demo seed fills the ticket workspace of both demo tenants, once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from stdnum.cl import rut as cl_rut

from analytics.models import DailyStat, RollupState
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import (
    AccountAutomation,
    AssignmentMode,
    AssignmentRule,
    BusinessSchedule,
    Department,
    ForbiddenWord,
    MessageTemplate,
    MetadataField,
    RoutingRule,
    SkillsBot,
    WhatsAppTemplate,
)
from helpdesk.models import Tenant
from helpdesk.tenancy import bypass_context
from tickets.models import (
    Comment,
    CommentMention,
    Customer,
    Event,
    Message,
    Sentiment,
    Ticket,
    TicketStatus,
)

COUNTED = (ChannelAccount, Ticket, Message, Comment, CommentMention, Customer, Event)


def _counts() -> dict[str, int]:
    return {model.__name__: model.all_tenants.count() for model in COUNTED}


@pytest.mark.django_db
def test_seed_demo_fills_the_ticket_workspace_once():
    call_command("seed_demo")
    with bypass_context():
        first = _counts()
    call_command("seed_demo")
    with bypass_context():
        assert _counts() == first

        demo = Tenant.objects.get(slug="demo")
        acme = Tenant.objects.get(slug="acme")
        kinds = set(ChannelAccount.all_tenants.filter(tenant=demo).values_list("kind", flat=True))
        assert kinds == set(ChannelKind.values)

        tickets = Ticket.all_tenants.filter(tenant=demo)
        assert tickets.count() >= 20
        # Analítica shows the seeded history at once, not «se están calculando».
        state = RollupState.all_tenants.get(tenant=demo)
        assert state.watermark is not None
        assert DailyStat.all_tenants.filter(tenant=demo).exists()
        for status in TicketStatus.values:
            assert tickets.filter(status=status).exists(), status
        assert tickets.filter(important=True).exists()
        assert tickets.filter(sentiment=Sentiment.ANGRY).exists()
        assert tickets.filter(sentiment=Sentiment.HAPPY).exists()
        assert tickets.filter(merged_into__isnull=False).exists()
        assert tickets.filter(escalated_to="bodega@tiendademo.cl").exists()
        assert tickets.filter(previous_ticket__isnull=False, status=TicketStatus.OPEN).exists()
        # Nuevos: nobody has it and the customer waits for an answer.
        assert tickets.filter(
            status=TicketStatus.OPEN, assignee__isnull=True, awaiting_response=True
        ).exists()
        assert tickets.filter(metadata__tipo_atencion="Reclamo").exists()
        assert Message.all_tenants.filter(tenant=demo, is_public=True, is_mention=True).exists()
        assert Comment.all_tenants.filter(tenant=demo).exists()
        assert CommentMention.all_tenants.filter(
            tenant=demo, user__email="agent2@demo.test"
        ).exists()
        assert MetadataField.all_tenants.filter(tenant=demo, key="tipo_atencion").exists()

        customers = Customer.all_tenants.filter(tenant=demo)
        ruts = list(customers.exclude(rut="").values_list("rut", flat=True))
        assert ruts
        assert all(cl_rut.is_valid(value) for value in ruts)

        # Acme has its own, and nothing of the demo tenant leaks into it.
        acme_tickets = Ticket.all_tenants.filter(tenant=acme)
        assert acme_tickets.count() >= 2
        assert not acme_tickets.filter(account__tenant=demo).exists()
        assert not acme_tickets.filter(customer__tenant=demo).exists()


@pytest.mark.django_db
def test_seed_demo_configures_the_administration():
    """Issue 6: departments, business hours, templates, a skills bot on one account and
    forbidden words, plus automatic replies, assignment modes, routing and WhatsApp templates."""
    call_command("seed_demo")
    with bypass_context():
        demo = Tenant.objects.get(slug="demo")
        assert Department.all_tenants.filter(tenant=demo).count() >= 3
        schedule = BusinessSchedule.all_tenants.get(tenant=demo, is_default=True)
        assert schedule.intervals.count() >= 10 and schedule.holidays.exists()
        assert MessageTemplate.all_tenants.filter(tenant=demo).exists()
        assert ForbiddenWord.all_tenants.filter(tenant=demo).exists()
        bots = SkillsBot.all_tenants.filter(tenant=demo, enabled=True)
        assert bots.count() == 1 and bots.get().options.count() >= 3
        assert AccountAutomation.all_tenants.filter(tenant=demo).count() >= 2
        assert AssignmentRule.all_tenants.filter(
            tenant=demo, mode=AssignmentMode.AUTOMATIC
        ).exists()
        assert RoutingRule.all_tenants.filter(tenant=demo).count() >= 2
        assert WhatsAppTemplate.all_tenants.filter(
            tenant=demo, status=WhatsAppTemplate.Status.APPROVED
        ).exists()
        # The scripted history was played before the automation existed: no bot messages.
        assert not Message.all_tenants.filter(tenant=demo, author__is_bot=True).exists()
