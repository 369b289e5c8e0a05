"""``manage.py simulate_inbound`` posts a signed, realistic webhook to a running server."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from helpdesk.tenancy import tenant_context
from tickets.models import DeliveryStatus, Message

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_simulated_whatsapp_message_and_status_reach_the_desk(
    live_server, wa, fb, cast, eager_celery, capsys
):
    url = f"{live_server.url}/webhooks/meta/"
    call_command(
        "simulate_inbound",
        "whatsapp",
        "--from",
        "+56 9 1234 5678",
        "--name",
        "Ana",
        "Hola",
        "--url",
        url,
    )
    assert "200 EVENT_RECEIVED" in capsys.readouterr().out
    with tenant_context(cast.tenant_a.pk):
        message = Message.objects.select_related("ticket__customer").get()
        assert message.text == "Hola" and message.ticket.customer.name == "Ana"
        Message.objects.create(
            tenant=cast.tenant_a,
            ticket=message.ticket,
            account=wa,
            direction="out",
            author_kind="agent",
            text="¡Hola!",
            provider_id="wamid.SENT",
            status=DeliveryStatus.SENT,
        )
    call_command(
        "simulate_inbound", "whatsapp", "--status", "read", "--wamid", "wamid.SENT", "--url", url
    )
    call_command(
        "simulate_inbound", "comment", "--from", "7001", "¿Envían a Valdivia?", "--url", url
    )
    call_command("simulate_inbound", "messenger", "--from", "6789012345", "¿Stock?", "--url", url)
    with tenant_context(cast.tenant_a.pk):
        assert Message.objects.get(provider_id="wamid.SENT").status == DeliveryStatus.READ
        assert (
            Message.objects.filter(account=fb, is_public=True).get().text == "¿Envían a Valdivia?"
        )
        assert Message.objects.filter(account=fb, is_public=False).get().text == "¿Stock?"
    with pytest.raises(CommandError, match="No hay una cuenta instagram"):
        call_command("simulate_inbound", "instagram", "Hola", "--url", url)
