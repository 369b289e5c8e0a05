"""Messenger, Facebook page comments and Instagram end to end: signed webhooks in, the real
sends (Messenger, comment replies, private replies) received by a local Graph server."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone
from werkzeug import Response

from channels_conn.meta.models import MetaMessageInfo
from helpdesk.tenancy import tenant_context
from tests.meta.conftest import PAGE_TOKEN
from tests.meta.payloads import IG, PAGE, body, comment, feed, messenger_event, post
from tickets import services
from tickets.models import DeliveryStatus, Direction, Message

db = pytest.mark.django_db
PSID = "6789012345"


def _now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def _page(client, process, *entries, obj="page"):
    with process:
        assert post(client, body(obj, *entries)).status_code == 200


def _get(cast, **filters) -> Message:
    with tenant_context(cast.tenant_a.pk):
        return Message.objects.select_related("ticket__customer", "reply_to", "meta").get(**filters)


def _info(cast, message: Message) -> dict:
    with tenant_context(cast.tenant_a.pk):
        return MetaMessageInfo.objects.get(message=message).data


def _deliver(cast, message: Message) -> Message:
    with tenant_context(cast.tenant_a.pk):
        services.message_deliver(message_id=message.pk)
        message.refresh_from_db()
    return message


@db
def test_messenger_text_attachments_quick_replies_and_postbacks(
    client, fb, process, cast, meta_settings
):
    meta_settings.expect_request("/cdn/photo.jpg").respond_with_data(
        b"JPEG", content_type="image/jpeg"
    )
    _page(
        client,
        process,
        messenger_event(
            message={
                "mid": "m_1",
                "text": "hola, ¿tienen stock?",
                "attachments": [
                    {"type": "image", "payload": {"url": meta_settings.url_for("/cdn/photo.jpg")}},
                    {
                        "type": "fallback",
                        "payload": {"url": "https://tienda.test/p/1", "title": "Zapatilla"},
                    },
                ],
            }
        ),
        messenger_event(
            ts=1749416384000,
            message={"mid": "m_2", "text": "Envío", "quick_reply": {"payload": "SHIP"}},
        ),
        messenger_event(
            ts=1749416385000,
            postback={"mid": "m_3", "title": "Hablar con alguien", "payload": "HUMAN"},
        ),
    )
    first = _get(cast, provider_id="m_1")
    assert first.text == "hola, ¿tienen stock?\nZapatilla https://tienda.test/p/1"
    with tenant_context(cast.tenant_a.pk):
        assert first.attachments.get().file.read() == b"JPEG"
        assert first.ticket.customer.identities.get().value == PSID
    assert (
        _get(cast, provider_id="m_2").text == "Envío"
        and _info(cast, _get(cast, provider_id="m_2"))["payload"] == "SHIP"
    )
    assert _get(cast, provider_id="m_3").text == "Hablar con alguien"


@db
def test_attachment_urls_outside_meta_hosts_are_not_fetched(client, fb, process, cast):
    _page(
        client,
        process,
        messenger_event(
            message={
                "mid": "m_x",
                "attachments": [
                    {"type": "file", "payload": {"url": "http://10.0.0.5/internal.pdf"}}
                ],
            }
        ),
    )
    assert "host no permitido: 10.0.0.5" in _get(cast, provider_id="m_x").text


@db
def test_reactions_echoes_and_receipts(client, fb, process, cast, meta_settings):
    _page(client, process, messenger_event(ts=_now_ms(), message={"mid": "m_in", "text": "hola"}))
    incoming = _get(cast, provider_id="m_in")
    meta_settings.expect_request(f"/v25.0/{PAGE}/messages", method="POST").respond_with_json(
        {"recipient_id": PSID, "message_id": "m_out"}
    )
    with tenant_context(cast.tenant_a.pk):
        reply = services.message_send(ticket=incoming.ticket, author=cast.agent, text="¡Hola!")
    reply = _deliver(cast, reply)
    assert reply.provider_id == "m_out"
    now = _now_ms()
    _page(
        client,
        process,
        messenger_event(
            ts=now, reaction={"mid": "m_out", "action": "react", "reaction": "love", "emoji": "❤"}
        ),
        # Our own echo (our app id): matched to the stored message, no copy.
        {
            "id": PAGE,
            "time": now,
            "messaging": [
                {
                    "sender": {"id": PAGE},
                    "recipient": {"id": PSID},
                    "timestamp": now,
                    "message": {
                        "mid": "m_out",
                        "is_echo": True,
                        "app_id": 1234567890,
                        "text": "¡Hola!",
                    },
                }
            ],
        },
        # An answer sent from Meta's inbox: stored as an outgoing message «enviado desde Meta».
        {
            "id": PAGE,
            "time": now + 1,
            "messaging": [
                {
                    "sender": {"id": PAGE},
                    "recipient": {"id": PSID},
                    "timestamp": now + 1,
                    "message": {
                        "mid": "m_inbox",
                        "is_echo": True,
                        "app_id": 263902037430900,
                        "text": "Te llamo ahora",
                    },
                }
            ],
        },
        messenger_event(ts=now + 2, delivery={"mids": ["m_out"], "watermark": now}),
    )
    with tenant_context(cast.tenant_a.pk):
        assert Message.objects.filter(provider_id="m_out").count() == 1
    assert _info(cast, reply)["reactions"] == {PSID: "❤"}
    assert _get(cast, pk=reply.pk).status == DeliveryStatus.DELIVERED
    elsewhere = _get(cast, provider_id="m_inbox")
    assert elsewhere.direction == Direction.OUT and _info(cast, elsewhere)["from_meta"] is True
    _page(client, process, messenger_event(ts=now + 3, read={"watermark": now + 5000}))
    assert _get(cast, pk=reply.pk).status == DeliveryStatus.READ
    agent = Client()
    agent.force_login(cast.agent)
    page = agent.get(f"/tickets/{incoming.ticket.number}/").content.decode()
    assert "Enviado desde Meta" in page and "❤" in page


@db
def test_messenger_window_response_then_human_agent_then_refused(
    client, fb, process, cast, meta_settings
):
    recent = _now_ms() - 2 * 3600 * 1000
    _page(client, process, messenger_event(ts=recent, message={"mid": "m_w", "text": "hola"}))
    incoming = _get(cast, provider_id="m_w")
    sent = []

    def answer(request):
        sent.append(request.get_json())
        return Response(
            json.dumps({"message_id": f"m_ok{len(sent)}"}), content_type="application/json"
        )

    meta_settings.expect_request(
        f"/v25.0/{PAGE}/messages", method="POST", headers={"Authorization": f"Bearer {PAGE_TOKEN}"}
    ).respond_with_handler(answer)

    def send(text: str) -> Message:
        with tenant_context(cast.tenant_a.pk):
            return _deliver(
                cast, services.message_send(ticket=incoming.ticket, author=cast.agent, text=text)
            )

    assert send("Dentro de 24 h").status == DeliveryStatus.SENT
    assert sent[-1] == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Dentro de 24 h"},
    }
    with tenant_context(cast.tenant_a.pk):
        Message.objects.filter(pk=incoming.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=3)
        )
    assert send("A los 3 días").status == DeliveryStatus.SENT
    assert sent[-1]["messaging_type"] == "MESSAGE_TAG" and sent[-1]["tag"] == "HUMAN_AGENT"
    with tenant_context(cast.tenant_a.pk):
        Message.objects.filter(pk=incoming.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=8)
        )
    with pytest.raises(services.ActionRefused, match="más de 7 días"):
        send("A los 8 días")
    assert len(sent) == 2  # nothing was queued, nothing went to Meta


@db
def test_page_comments_open_tickets_edits_and_removals_update_them(client, fb, process, cast):
    _page(client, process, feed(comment("C1", text="¿Hacen envíos a Valdivia?")))
    first = _get(cast, provider_id="C1")
    assert first.is_public and first.ticket.customer.name == "Martina Rojas"
    _page(client, process, feed(comment("C2", text="¿Y a Osorno?", parent="C1")))
    second = _get(cast, provider_id="C2")
    assert second.reply_to_id == first.pk and second.ticket_id == first.ticket_id
    # The page's own comment opens no ticket; likes and other feed noise are ignored.
    _page(
        client,
        process,
        feed(comment("C3", author=PAGE, name="Tienda", text="¡Sí!")),
        feed(
            {
                "item": "reaction",
                "verb": "add",
                "reaction_type": "like",
                "from": {"id": "7002"},
                "post_id": "x",
            }
        ),
        feed({"item": "like", "verb": "add", "from": {"id": "7003"}, "post_id": "x"}),
    )
    with tenant_context(cast.tenant_a.pk):
        assert Message.objects.count() == 2
    _page(
        client,
        process,
        feed(comment("C1", verb="edited", text="¿Hacen envíos a Valdivia y Puerto Montt?")),
    )
    _page(client, process, feed(comment("C2", verb="remove")))
    assert _get(cast, pk=first.pk).text == "¿Hacen envíos a Valdivia y Puerto Montt?"
    assert _info(cast, first)["edited"] is True and _info(cast, second)["removed"] is True
    agent = Client()
    agent.force_login(cast.agent)
    contexto = agent.get(f"/tickets/{first.ticket.number}/tab/contexto/").content.decode()
    assert "data-comment-thread" in contexto and "Ver la publicación en Meta" in contexto
    assert "Eliminado" in contexto


@db
def test_public_and_private_replies_to_a_comment(client, fb, process, cast, meta_settings):
    now = int(timezone.now().timestamp())
    _page(client, process, feed(comment("C9", text="Mi pedido no llega", created=now)))
    incoming = _get(cast, provider_id="C9")
    meta_settings.expect_request(
        "/v25.0/C9/comments", method="POST", headers={"Authorization": f"Bearer {PAGE_TOKEN}"}
    ).respond_with_json({"id": "C9_reply"})
    meta_settings.expect_request(
        f"/v25.0/{PAGE}/messages",
        method="POST",
        json={"recipient": {"comment_id": "C9"}, "message": {"text": "Te escribo por interno"}},
    ).respond_with_json({"recipient_id": "x", "message_id": "m_private"})
    with tenant_context(cast.tenant_a.pk):
        public = services.message_send(
            ticket=incoming.ticket, author=cast.agent, text="Te ayudamos", reply_to=incoming
        )
        assert public.is_public
    assert _deliver(cast, public).provider_id == "C9_reply"
    with tenant_context(cast.tenant_a.pk):
        private = services.message_send(
            ticket=incoming.ticket,
            author=cast.agent,
            text="Te escribo por interno",
            reply_to=incoming,
            is_public=False,
        )
    assert _deliver(cast, private).provider_id == "m_private"
    assert "private_reply" in _info(cast, incoming)
    with tenant_context(cast.tenant_a.pk), pytest.raises(services.ActionRefused, match="solo una"):
        services.message_send(
            ticket=incoming.ticket,
            author=cast.agent,
            text="Otra vez",
            reply_to=incoming,
            is_public=False,
        )


@db
def test_instagram_dms_story_replies_and_comments(client, ig, process, cast, meta_settings):
    _page(
        client,
        process,
        messenger_event(
            page=IG,
            sender="IGSID1",
            message={
                "mid": "ig_1",
                "text": "Me encantó",
                "reply_to": {"story": {"url": "https://lookaside.fbsbx.com/story/1", "id": "S1"}},
            },
        ),
        messenger_event(
            page=IG,
            sender="IGSID1",
            ts=1749416384000,
            message={"mid": "ig_2", "is_unsupported": True},
        ),
        obj="instagram",
    )
    story = _get(cast, provider_id="ig_1")
    assert "Respondió a tu historia: https://lookaside.fbsbx.com/story/1" in story.text
    assert "no entrega a esta aplicación" in _get(cast, provider_id="ig_2").text
    _page(
        client,
        process,
        messenger_event(
            page=IG, sender="IGSID1", ts=1749416385000, message={"mid": "ig_1", "is_deleted": True}
        ),
        obj="instagram",
    )
    assert _info(cast, story)["removed"] is True
    _page(
        client,
        process,
        {
            "id": IG,
            "time": 1749416390,
            "changes": [
                {
                    "field": "comments",
                    "value": {
                        "from": {"id": "IGSID2", "username": "martina.rojas"},
                        "id": "IGC1",
                        "text": "¿Precio?",
                        "media": {"id": "MEDIA1", "media_product_type": "FEED"},
                    },
                }
            ],
        },
        obj="instagram",
    )
    comment_msg = _get(cast, provider_id="IGC1")
    assert comment_msg.is_public and comment_msg.ticket.customer.name == "martina.rojas"
    meta_settings.expect_request("/v25.0/IGC1/replies", method="POST").respond_with_json(
        {"id": "IGC1_r"}
    )
    with tenant_context(cast.tenant_a.pk):
        reply = services.message_send(
            ticket=comment_msg.ticket, author=cast.agent, text="$19.990", reply_to=comment_msg
        )
    assert _deliver(cast, reply).provider_id == "IGC1_r"


@db
def test_the_composer_answers_a_comment_publicly_or_privately(client, fb, process, cast):
    now = int(timezone.now().timestamp())
    _page(client, process, feed(comment("C7", text="¿Tienen talla 40?", created=now)))
    incoming = _get(cast, provider_id="C7")
    agent = Client()
    agent.force_login(cast.agent)
    url = f"/tickets/{incoming.ticket.number}/reply/"
    page = agent.get(f"/tickets/{incoming.ticket.number}/").content.decode()
    assert "data-visibility" in page
    agent.post(url, {"text": "Sí, te escribimos", "reply_to": incoming.pk, "visibility": "private"})
    agent.post(url, {"text": "¡Sí hay!", "reply_to": incoming.pk})
    with tenant_context(cast.tenant_a.pk):
        sent = dict(
            Message.objects.filter(direction=Direction.OUT).values_list("text", "is_public")
        )
    assert sent == {"Sí, te escribimos": False, "¡Sí hay!": True}


@db
def test_a_messenger_file_is_uploaded_with_the_message(client, fb, process, cast, meta_settings):
    _page(
        client, process, messenger_event(ts=_now_ms(), message={"mid": "m_f", "text": "¿Boleta?"})
    )
    incoming = _get(cast, provider_id="m_f")
    seen = []

    def answer(request):
        seen.append((json.loads(request.form["recipient"]), json.loads(request.form["message"]),
                     request.form["messaging_type"], request.files["filedata"].read()))  # fmt: skip
        return Response(json.dumps({"message_id": "m_file"}), content_type="application/json")

    meta_settings.expect_request(f"/v25.0/{PAGE}/messages", method="POST").respond_with_handler(
        answer
    )
    with tenant_context(cast.tenant_a.pk):
        reply = services.message_send(
            ticket=incoming.ticket,
            author=cast.agent,
            text="",
            files=[
                services.IncomingFile(name="b.pdf", content=b"%PDF", content_type="application/pdf")
            ],
        )
    assert _deliver(cast, reply).provider_id == "m_file"
    attachment = {"attachment": {"type": "file", "payload": {"is_reusable": False}}}
    assert seen == [({"id": PSID}, attachment, "RESPONSE", b"%PDF")]


@db
def test_probe_of_a_page_says_which_permission_is_missing(client, fb, cast, meta_settings):
    meta_settings.expect_request(f"/v25.0/{PAGE}").respond_with_json(
        {"error": {"message": "(#10) This endpoint requires the 'pages_messaging' permission",
                   "code": 10}}, status=403)  # fmt: skip
    admin = Client()
    admin.force_login(cast.admin)
    page = admin.post(f"/admin/channels/{fb.pk}/probe/", follow=True).content.decode()
    assert "Al token le falta un permiso en Meta" in page and "pages_messaging" in page
