"""One «Reconectar» for Meta's accounts: Graph's "token no longer valid" (190, 102) on a real
send to a local Graph server marks the account with the reason (audited, not deactivated); the
webhooks keep arriving; the agent's composer and every send say why; the Channels list shows the
chip; a successful «Probar conexión» or a new token clears it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from deskconfig.models import ConfigChange
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import client_for
from tests.meta.payloads import NUMBER_A, PAGE, body, messenger_event, post, wa_message, whatsapp
from tickets import services
from tickets.models import DeliveryStatus, Message, Ticket

db = pytest.mark.django_db

EXPIRED = {
    "error": {
        "message": "Error validating access token: Session has expired on Sunday.",
        "type": "OAuthException",
        "code": 190,
        "error_subcode": 463,
        "fbtrace_id": "A1b2",
    }
}


def _now() -> str:
    return str(int(timezone.now().timestamp()))


def _reload(account: ChannelAccount) -> ChannelAccount:
    with bypass_context():
        account.refresh_from_db()
    return account


def _receive_wa(client, process, wamid: str, text: str = "Hola") -> Message:
    with process:
        assert post(client, whatsapp(wa_message(wamid=wamid, ts=_now(), text={"body": text})))
    with bypass_context():
        return Message.objects.select_related("ticket").get(provider_id=wamid)


def _send_and_deliver(cast, ticket, text: str) -> Message:
    with tenant_context(cast.tenant_a.pk):
        reply = services.message_send(ticket=ticket, author=cast.agent, text=text)
        services.message_deliver(message_id=reply.pk)
        reply.refresh_from_db()
    return reply


def _changes(cast) -> list[ConfigChange]:
    with tenant_context(cast.tenant_a.pk):
        return list(ConfigChange.objects.filter(section="channels").order_by("at", "id"))


@db
def test_an_expired_token_on_a_send_marks_the_account_and_every_page_says_why(
    client, wa, process, cast, meta_settings
):
    inbound = _receive_wa(client, process, "wamid.IN1")
    meta_settings.expect_request(f"/v25.0/{NUMBER_A}/messages", method="POST").respond_with_json(
        EXPIRED, status=401
    )
    reply = _send_and_deliver(cast, inbound.ticket, "Sí, tenemos azul")
    assert reply.status == DeliveryStatus.FAILED and "venció" in reply.failure_reason

    _reload(wa)
    assert wa.active  # one rule for every channel: marked, never switched off
    assert "venció o fue revocado" in wa.reconnect_reason and wa.reconnect_since is not None
    audit = _changes(cast)
    assert len(audit) == 1 and audit[0].actor_id is None
    assert audit[0].after["reconnect_reason"] == wa.reconnect_reason
    assert audit[0].before == {"reconnect_reason": "", "reconnect_since": None}

    # What Meta still delivers keeps arriving on the marked account.
    again = _receive_wa(client, process, "wamid.IN2", "¿Y en rojo?")
    assert again.ticket_id == inbound.ticket_id

    # The agent's composer says why, in the brief's words, instead of a send button.
    agent = client_for(cast.agent)
    page = agent.get(f"/tickets/{inbound.ticket.number}/").content.decode()
    composer = page.split('id="composer"', 1)[1].split("</form>", 1)[0]
    assert "La cuenta WhatsApp ventas necesita reconectarse: El token de acceso venció" in composer
    assert "Avisa a un administrador." in composer and 'data-action="send"' not in composer
    # A send is refused with that reason before anything is queued, whoever tries.
    with tenant_context(cast.tenant_a.pk), pytest.raises(ValidationError) as refused:
        ticket = Ticket.objects.get(pk=inbound.ticket_id)
        services.message_send(ticket=ticket, author=cast.agent, text="Hola")
    assert "necesita reconectarse" in " ".join(refused.value.messages)
    answer = agent.post(
        f"/tickets/{inbound.ticket.number}/reply/", {"text": "Hola"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "necesita reconectarse: El token de acceso venció" in answer
    with bypass_context():
        assert Message.objects.filter(ticket=inbound.ticket, direction="out").count() == 1

    # The Channels list: the chip and the reason on the account's row; the page says what to do.
    admin = client_for(cast.admin)
    listing = admin.get("/admin/channels/").content.decode()
    row = listing.split(f'data-account="{wa.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "ch-reconnect" in row and "Reconectar" in row and "venció" in row
    account_page = admin.get(f"/admin/channels/{wa.pk}/").content.decode()
    assert 'id="reconnect"' in account_page and "Genera un token de acceso nuevo" in account_page

    # «Probar conexión» with a token Meta accepts again clears the mark (audited, by the admin).
    meta_settings.clear()
    meta_settings.expect_request(f"/v25.0/{NUMBER_A}").respond_with_json(
        {"display_phone_number": "+56 9 4000 1234", "verified_name": "Tienda A"}
    )
    admin.post(f"/admin/channels/{wa.pk}/probe/")
    _reload(wa)
    assert wa.reconnect_reason == "" and wa.reconnect_since is None
    last = _changes(cast)[-1]
    assert last.actor_id == cast.admin.pk and last.after["reconnect_reason"] == ""
    page = agent.get(f"/tickets/{inbound.ticket.number}/").content.decode()
    assert "necesita reconectarse" not in page and 'data-action="send"' in page


@db
def test_a_refused_probe_marks_and_a_new_token_saved_clears(client, wa, cast, meta_settings):
    admin = client_for(cast.admin)
    meta_settings.expect_request(f"/v25.0/{NUMBER_A}").respond_with_json(EXPIRED, status=401)
    admin.post(f"/admin/channels/{wa.pk}/probe/")
    assert "venció" in _reload(wa).reconnect_reason
    admin.post(f"/admin/channels/{wa.pk}/probe/")  # the same refusal again: one audit row
    assert len(_changes(cast)) == 1
    log = admin.get("/admin/audit/").content.decode()
    assert "Sistema" in log and "otivo para reconectar" in log and "venció" in log
    form = {
        "name": wa.name,
        "phone_number_id": NUMBER_A,
        "waba_id": wa.settings["waba_id"],
        "display_phone_number": "",
        "access_token": "EAAnuevo-token",
        "app_secret": "",
        "verify_token": "",
        "sla_minutes": "60",
        "resolution_minutes": "",
        "schedule": "",
    }
    assert admin.post(f"/admin/channels/{wa.pk}/", form).status_code == 302
    assert _reload(wa).reconnect_reason == ""
    # Saving again without new credentials: nothing to clear, no reconnect audit row.
    assert admin.post(f"/admin/channels/{wa.pk}/", {**form, "access_token": ""}).status_code == 302
    marks = [c.after["reconnect_reason"] for c in _changes(cast) if "reconnect_reason" in c.after]
    assert len(marks) == 2 and marks[0] and marks[1] == ""


@db
def test_a_messenger_send_refused_with_graph_102_marks_the_page(
    client, fb, process, cast, meta_settings
):
    now_ms = int(timezone.now().timestamp() * 1000)
    with process:
        raw = body("page", messenger_event(ts=now_ms, message={"mid": "m_in", "text": "hola"}))
        assert post(client, raw).status_code == 200
    with bypass_context():
        incoming = Message.objects.select_related("ticket").get(provider_id="m_in")
    meta_settings.expect_request(f"/v25.0/{PAGE}/messages", method="POST").respond_with_json(
        {"error": {"message": "Session key invalid", "type": "OAuthException", "code": 102}},
        status=400,
    )
    reply = _send_and_deliver(cast, incoming.ticket, "¡Hola!")
    assert reply.status == DeliveryStatus.FAILED
    _reload(fb)
    assert fb.active and "reconecta la cuenta" in fb.reconnect_reason
    # «Reconectar» (the admin fixed the token in Meta itself) clears it; the retry may go.
    client_for(cast.admin).post(f"/admin/channels/{fb.pk}/reconnect/")
    assert _reload(fb).reconnect_reason == ""
