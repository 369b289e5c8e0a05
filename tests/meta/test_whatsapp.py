"""WhatsApp end to end: every inbound shape posted signed to the real endpoint, statuses, and
the real sends received by a local server that answers like the Graph API."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone
from werkzeug import Request, Response

from channels_conn.base import ConnectorError
from channels_conn.meta.models import MetaMessageInfo
from channels_conn.whatsapp.connector import whatsapp_connector
from channels_conn.whatsapp.templates import message_send_template
from deskconfig.models import WhatsAppTemplate
from helpdesk.tenancy import bypass_context, tenant_context
from tests.meta.conftest import TOKEN_A
from tests.meta.payloads import NUMBER_A, WABA, post, wa_message, wa_status, whatsapp
from tickets import services
from tickets.models import DeliveryStatus, Message

db = pytest.mark.django_db


def _now() -> str:
    return str(int(timezone.now().timestamp()))


def _receive(client, process, *entries):
    with process:
        response = post(client, whatsapp(*entries))
    assert response.status_code == 200


def _only(cast, **filters) -> Message:
    with tenant_context(cast.tenant_a.pk):
        return Message.objects.select_related("ticket__customer", "reply_to").get(**filters)


def _graph_media(server, media_id: str, content: bytes, mime: str, size: int | None = None):
    server.expect_request(
        f"/v25.0/{media_id}", headers={"Authorization": f"Bearer {TOKEN_A}"}
    ).respond_with_json(
        {
            "url": server.url_for(f"/whatsapp_business/attachments/{media_id}"),
            "mime_type": mime,
            "sha256": "x",
            "file_size": size if size is not None else len(content),
            "id": media_id,
        }
    )
    server.expect_request(
        f"/whatsapp_business/attachments/{media_id}", headers={"Authorization": f"Bearer {TOKEN_A}"}
    ).respond_with_data(content, content_type=mime)


@db
def test_text_from_a_new_customer_opens_a_ticket_with_the_name_and_phone(client, wa, process, cast):
    _receive(client, process, wa_message(wamid="wamid.T1"))
    m = _only(cast, provider_id="wamid.T1")
    assert m.text == "Hola, ¿tienen otro color?" and m.direction == "in" and not m.is_public
    assert m.ticket.customer.name == "Sheena Nelson"
    with tenant_context(cast.tenant_a.pk):
        assert m.ticket.customer.identities.get().value == "56912345678"
    assert m.created_at == datetime.datetime.fromtimestamp(1749416383, tz=datetime.UTC)


@db
@pytest.mark.parametrize(
    ("kind", "mime", "extra"),
    [
        ("image", "image/jpeg", {"caption": "Así llegó la caja"}),
        ("document", "application/pdf", {"filename": "boleta.pdf", "caption": "La boleta"}),
        ("audio", "audio/ogg", {"voice": True}),
        ("video", "video/mp4", {}),
        ("sticker", "image/webp", {"animated": False}),
    ],
)
def test_media_is_looked_up_and_downloaded_with_the_account_token(
    client, wa, process, cast, meta_settings, kind, mime, extra
):
    _graph_media(meta_settings, "MID-9", b"bytes-of-" + kind.encode(), mime)
    item = {"type": kind, kind: {"id": "MID-9", "mime_type": mime, "sha256": "x", **extra}}
    _receive(client, process, wa_message(wamid=f"wamid.{kind}", **item))
    m = _only(cast, provider_id=f"wamid.{kind}")
    with tenant_context(cast.tenant_a.pk):
        attachment = m.attachments.get()
        assert attachment.file.read() == b"bytes-of-" + kind.encode()
    assert attachment.content_type == mime
    assert m.text == extra.get("caption", "")
    if kind == "document":
        assert attachment.name == "boleta.pdf"


@db
def test_media_over_the_limit_is_not_downloaded_and_says_so(
    client, wa, process, cast, meta_settings
):
    meta_settings.expect_request("/v25.0/BIG").respond_with_json(
        {
            "url": meta_settings.url_for("/big"),
            "mime_type": "image/jpeg",
            "file_size": 6 * 1024 * 1024,
            "id": "BIG",
        }
    )
    _receive(
        client,
        process,
        wa_message(wamid="wamid.BIG", type="image", image={"id": "BIG", "caption": "Foto"}),
    )
    m = _only(cast, provider_id="wamid.BIG")
    assert m.text.startswith("Foto\n[No se descargó el archivo")
    with tenant_context(cast.tenant_a.pk):
        assert not m.attachments.exists()


@db
def test_media_urls_outside_graph_and_meta_hosts_are_never_fetched(
    client, wa, process, cast, meta_settings
):
    # A lookup answering an internal address (SSRF) is refused before any request to it.
    meta_settings.expect_request("/v25.0/EVIL").respond_with_json(
        {"url": "http://169.254.169.254/latest/meta-data/", "mime_type": "image/jpeg", "id": "EVIL"}
    )
    _receive(client, process, wa_message(wamid="wamid.EVIL", type="image", image={"id": "EVIL"}))
    m = _only(cast, provider_id="wamid.EVIL")
    assert "host no permitido: 169.254.169.254" in m.text


@db
def test_location_contacts_buttons_and_lists_become_text(client, wa, process, cast):
    _receive(
        client,
        process,
        wa_message(
            wamid="wamid.LOC",
            type="location",
            location={
                "latitude": -33.4372,
                "longitude": -70.6506,
                "name": "Tienda Centro",
                "address": "Ahumada 11",
            },
        ),
        wa_message(
            wamid="wamid.CON",
            ts="1749416384",
            type="contacts",
            contacts=[
                {
                    "name": {"formatted_name": "Pedro Soto", "first_name": "Pedro"},
                    "phones": [{"phone": "+56 9 8765 4321", "type": "CELL"}],
                }
            ],
        ),
        wa_message(
            wamid="wamid.BTN",
            ts="1749416385",
            type="interactive",
            interactive={
                "type": "button_reply",
                "button_reply": {"id": "si-1", "title": "Sí, confirmo"},
            },
        ),
        wa_message(
            wamid="wamid.LST",
            ts="1749416386",
            type="interactive",
            interactive={
                "type": "list_reply",
                "list_reply": {"id": "env-2", "title": "Despacho", "description": "2 a 3 días"},
            },
        ),
        wa_message(
            wamid="wamid.TPL",
            ts="1749416387",
            type="button",
            button={"text": "Detener promociones", "payload": "STOP"},
        ),
    )
    loc = _only(cast, provider_id="wamid.LOC")
    assert "Tienda Centro · Ahumada 11" in loc.text and "maps?q=-33.4372,-70.6506" in loc.text
    assert "Pedro Soto +56 9 8765 4321" in _only(cast, provider_id="wamid.CON").text
    assert _only(cast, provider_id="wamid.BTN").text == "Sí, confirmo"
    assert _only(cast, provider_id="wamid.LST").text == "Despacho\n2 a 3 días"
    assert _only(cast, provider_id="wamid.TPL").text == "Detener promociones"
    with tenant_context(cast.tenant_a.pk):
        assert len({m.ticket_id for m in Message.objects.all()}) == 1  # one conversation


@db
def test_reactions_land_on_the_message_they_react_to(client, wa, process, cast):
    _receive(client, process, wa_message(wamid="wamid.R0"))
    _receive(
        client,
        process,
        wa_message(
            wamid="wamid.R1",
            ts="1749416400",
            type="reaction",
            reaction={"message_id": "wamid.R0", "emoji": "❤️"},
        ),
    )
    target = _only(cast, provider_id="wamid.R0")
    with tenant_context(cast.tenant_a.pk):
        assert Message.objects.count() == 1  # a reaction is not a message
        assert MetaMessageInfo.objects.get(message=target).data["reactions"] == {"56912345678": "❤️"}
    page = _ticket_page(cast, target.ticket.number)
    assert "data-reactions" in page and "❤️" in page
    _receive(
        client,
        process,
        wa_message(
            wamid="wamid.R2",
            ts="1749416401",
            type="reaction",
            reaction={"message_id": "wamid.R0", "emoji": ""},
        ),
    )
    with tenant_context(cast.tenant_a.pk):
        assert MetaMessageInfo.objects.get(message=target).data["reactions"] == {}
    # On a message we don't have: ignored.
    _receive(
        client,
        process,
        wa_message(
            wamid="wamid.R3",
            ts="1749416402",
            type="reaction",
            reaction={"message_id": "wamid.UNKNOWN", "emoji": "👍"},
        ),
    )


def _ticket_page(cast, number: int) -> str:
    from django.test import Client

    c = Client()
    c.force_login(cast.agent)
    return c.get(f"/tickets/{number}/").content.decode()


@db
def test_a_quoted_reply_points_at_the_quoted_message_and_a_referral_is_kept(
    client, wa, process, cast
):
    _receive(client, process, wa_message(wamid="wamid.Q0", text={"body": "¿Precio?"}))
    _receive(
        client,
        process,
        wa_message(
            wamid="wamid.Q1",
            ts="1749416500",
            text={"body": "Este"},
            context={"from": "15550783881", "id": "wamid.Q0"},
            referral={
                "source_url": "https://fb.me/anuncio",
                "source_type": "ad",
                "source_id": "120",
                "headline": "Zapatillas -30%",
                "body": "Solo hoy",
            },
        ),
    )
    m = _only(cast, provider_id="wamid.Q1")
    assert m.reply_to is not None and m.reply_to.provider_id == "wamid.Q0"
    with tenant_context(cast.tenant_a.pk):
        from channels_conn.meta.models import MetaMessageInfo

        info = MetaMessageInfo.objects.get(message=m)
        assert info.data["referral"]["headline"] == "Zapatillas -30%"
    from django.test import Client

    c = Client()
    c.force_login(cast.agent)
    contexto = c.get(f"/tickets/{m.ticket.number}/tab/contexto/").content.decode()
    assert "Zapatillas -30%" in contexto and "https://fb.me/anuncio" in contexto


@db
def test_unsupported_items_are_kept_as_a_visible_note(client, wa, process, cast):
    _receive(
        client,
        process,
        wa_message(
            wamid="wamid.U1",
            type="unsupported",
            errors=[
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
        ),
    )
    m = _only(cast, provider_id="wamid.U1")
    assert "no entrega a esta aplicación (unsupported)" in m.text
    assert "131051: Message type is currently not supported." in m.text


def _sent_message(cast, wa, text="Hola, sí tenemos azul") -> Message:
    with tenant_context(cast.tenant_a.pk):
        ticket = Message.objects.get(provider_id="wamid.IN").ticket
        return services.message_send(ticket=ticket, author=cast.agent, text=text)


def _deliver(cast, message: Message) -> Message:
    with tenant_context(cast.tenant_a.pk):
        services.message_deliver(message_id=message.pk)
        message.refresh_from_db()
    return message


@db
def test_a_reply_is_sent_to_graph_and_the_statuses_turn_the_ticks(
    client, wa, process, cast, meta_settings
):
    _receive(client, process, wa_message(wamid="wamid.IN", ts=_now()))
    meta_settings.expect_request(
        f"/v25.0/{NUMBER_A}/messages",
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN_A}"},
        json={
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "+56912345678",
            "type": "text",
            "text": {"preview_url": False, "body": "Hola, sí tenemos azul"},
        },
    ).respond_with_json(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "+56912345678", "wa_id": "56912345678"}],
            "messages": [{"id": "wamid.OUT1"}],
        }
    )
    reply = _deliver(cast, _sent_message(cast, wa))
    assert (reply.status, reply.provider_id) == (DeliveryStatus.SENT, "wamid.OUT1")
    for status, expected in (("delivered", "delivered"), ("read", "read"), ("delivered", "read")):
        _receive(client, process, wa_status("wamid.OUT1", status))
        assert _only(cast, pk=reply.pk).status == expected  # never backwards
    page = _ticket_page(cast, _only(cast, pk=reply.pk).ticket.number)
    assert 'class="delivery read"' in page
    # A status for a message we don't know, or one we don't track, is ignored.
    _receive(
        client, process, wa_status("wamid.NOT-OURS", "read"), wa_status("wamid.OUT1", "deleted")
    )


@db
@pytest.mark.parametrize(
    ("code", "title"),
    [
        (131047, "Pasaron más de 24 horas"),
        (131026, "el número no usa WhatsApp"),
        (131051, "no admite este tipo de mensaje"),
        (190, "reconecta la cuenta"),
    ],
)
def test_a_failed_status_shows_the_reason_in_spanish(
    client, wa, process, cast, meta_settings, code, title
):
    _receive(client, process, wa_message(wamid="wamid.IN", ts=_now()))
    meta_settings.expect_request(f"/v25.0/{NUMBER_A}/messages").respond_with_json(
        {"messages": [{"id": "wamid.F"}]}
    )
    reply = _deliver(cast, _sent_message(cast, wa))
    _receive(
        client,
        process,
        wa_status("wamid.F", "failed", errors=[{"code": code, "title": "x", "message": "x"}]),
    )
    failed = _only(cast, pk=reply.pk)
    assert failed.status == DeliveryStatus.FAILED and title in failed.failure_reason
    with bypass_context():
        wa.refresh_from_db()
    assert bool(wa.reconnect_reason) is (code == 190)


@db
def test_a_reply_quotes_the_message_it_answers_and_sends_media(
    client, wa, process, cast, meta_settings
):
    _receive(client, process, wa_message(wamid="wamid.IN", ts=_now()))
    uploads = []

    def upload(request: Request) -> Response:
        uploads.append((request.form.get("messaging_product"), request.files["file"].read()))
        return Response(json.dumps({"id": "UPLOADED-1"}), content_type="application/json")

    meta_settings.expect_request(f"/v25.0/{NUMBER_A}/media", method="POST").respond_with_handler(
        upload
    )
    meta_settings.expect_request(
        f"/v25.0/{NUMBER_A}/messages",
        method="POST",
        json={
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "+56912345678",
            "context": {"message_id": "wamid.IN"},
            "type": "document",
            "document": {"id": "UPLOADED-1", "caption": "Su boleta", "filename": "boleta.pdf"},
        },
    ).respond_with_json({"messages": [{"id": "wamid.DOC"}]})
    with tenant_context(cast.tenant_a.pk):
        incoming = Message.objects.get(provider_id="wamid.IN")
        reply = services.message_send(
            ticket=incoming.ticket,
            author=cast.agent,
            text="Su boleta",
            reply_to=incoming,
            files=[
                services.IncomingFile(
                    name="boleta.pdf", content=b"%PDF-1.4", content_type="application/pdf"
                )
            ],
        )
    assert _deliver(cast, reply).provider_id == "wamid.DOC"
    assert uploads == [("whatsapp", b"%PDF-1.4")]


@db
def test_a_template_goes_with_its_parameters(client, wa, process, cast, meta_settings):
    _receive(client, process, wa_message(wamid="wamid.IN", ts=_now()))
    with tenant_context(cast.tenant_a.pk):
        template = WhatsAppTemplate.objects.create(
            tenant=cast.tenant_a,
            account=wa,
            name="order_update",
            language="es",
            body="Hola {{1}}, tu pedido {{2}} va en camino.",
            status=WhatsAppTemplate.Status.APPROVED,
        )
        ticket = Message.objects.get(provider_id="wamid.IN").ticket
        sent = message_send_template(
            ticket=ticket, author=cast.agent, template=template, params=["Jessica", "SKBUP2-4CPIG9"]
        )
    meta_settings.expect_request(
        f"/v25.0/{NUMBER_A}/messages",
        method="POST",
        json={
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "+56912345678",
            "type": "template",
            "template": {
                "name": "order_update",
                "language": {"code": "es"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "Jessica"},
                            {"type": "text", "text": "SKBUP2-4CPIG9"},
                        ],
                    }
                ],
            },
        },
    ).respond_with_json({"messages": [{"id": "wamid.TPL"}]})
    assert _deliver(cast, sent).provider_id == "wamid.TPL"


@db
def test_graph_refusals_become_permanent_or_transient_failures_without_the_token(
    client, wa, process, cast, meta_settings
):
    _receive(client, process, wa_message(wamid="wamid.IN", ts=_now()))
    reply = _sent_message(cast, wa)
    meta_settings.expect_request(f"/v25.0/{NUMBER_A}/messages").respond_with_json(
        {
            "error": {
                "message": "(#132001) Template name does not exist",
                "type": "OAuthException",
                "code": 132001,
                "fbtrace_id": "A",
            }
        },
        status=400,
    )
    failed = _deliver(cast, reply)
    assert failed.status == DeliveryStatus.FAILED
    assert "plantilla no existe" in failed.failure_reason and TOKEN_A not in failed.failure_reason
    meta_settings.clear()
    meta_settings.expect_request(f"/v25.0/{NUMBER_A}/messages").respond_with_json(
        {"error": {"message": "(#130429) Rate limit hit", "code": 130429}}, status=400
    )
    with tenant_context(cast.tenant_a.pk):
        message = Message.objects.select_related("ticket__customer", "account").get(pk=reply.pk)
        with pytest.raises(ConnectorError) as err:
            whatsapp_connector.send(wa, message)
    assert err.value.permanent is False and TOKEN_A not in str(err.value)


@db
def test_sync_templates_reads_the_waba_templates_and_their_status(client, wa, cast, meta_settings):
    meta_settings.expect_request(
        f"/v25.0/{WABA}/message_templates", headers={"Authorization": f"Bearer {TOKEN_A}"}
    ).respond_with_json(
        {
            "data": [
                {
                    "name": "order_update",
                    "language": "es",
                    "status": "APPROVED",
                    "category": "UTILITY",
                    "components": [
                        {"type": "BODY", "text": "Hola {{1}}, tu pedido {{2}} va en camino."}
                    ],
                    "id": "1",
                },
                {
                    "name": "promo",
                    "language": "es_CL",
                    "status": "REJECTED",
                    "category": "MARKETING",
                    "components": [
                        {"type": "HEADER", "format": "TEXT", "text": "Oferta"},
                        {"type": "BODY", "text": "Solo hoy {{1}}"},
                    ],
                    "id": "2",
                },
            ],
            "paging": {"cursors": {"before": "a", "after": "b"}},
        }
    )
    from django.test import Client

    admin = Client()
    admin.force_login(cast.admin)
    response = admin.post(f"/admin/channels/{wa.pk}/templates/sync/", follow=True)
    assert "2 nuevas, 0 actualizadas" in response.content.decode()
    with tenant_context(cast.tenant_a.pk):
        got = {(t.name, t.language): (t.status, t.body) for t in WhatsAppTemplate.objects.all()}
    assert got == {
        ("order_update", "es"): ("APPROVED", "Hola {{1}}, tu pedido {{2}} va en camino."),
        ("promo", "es_CL"): ("REJECTED", "Solo hoy {{1}}"),
    }


@db
def test_probe_says_in_spanish_what_is_wrong(client, wa, cast, meta_settings):
    from django.test import Client

    admin = Client()
    admin.force_login(cast.admin)
    meta_settings.expect_request(f"/v25.0/{NUMBER_A}").respond_with_json(
        {"display_phone_number": "+56 9 4000 1234", "verified_name": "Tienda A"}
    )
    ok = admin.post(f"/admin/channels/{wa.pk}/probe/", follow=True).content.decode()
    assert "Conectada: +56 9 4000 1234 · Tienda A." in ok
    meta_settings.clear()
    meta_settings.expect_request(f"/v25.0/{NUMBER_A}").respond_with_json(
        {
            "error": {
                "message": "Error validating access token: Session has expired",
                "code": 190,
                "error_subcode": 463,
            }
        },
        status=401,
    )
    expired = admin.post(f"/admin/channels/{wa.pk}/probe/", follow=True).content.decode()
    assert "El token de acceso venció" in expired and TOKEN_A not in expired
    page = admin.get(f"/admin/channels/{wa.pk}/").content.decode()
    assert "http://testserver/webhooks/meta/" in page and "verify-token-123" in page
