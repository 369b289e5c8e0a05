"""Messenger and Instagram: customers' names from Graph (once, failure-tolerant), the 24-hour /
7-day windows in the composer and in the service; WhatsApp errors about the number itself and
failed statuses with codes we don't translate."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from channels_conn.meta.profiles import _key, _local
from channels_conn.meta.tasks import refresh_meta_profile
from helpdesk.services import bot_user_create
from helpdesk.tenancy import bypass_context, tenant_context
from tests.meta.conftest import PAGE_TOKEN, PROFILE_PATH, answer_profiles
from tests.meta.payloads import (
    IG,
    NUMBER_A,
    PAGE,
    body,
    messenger_event,
    post,
    wa_envelope,
    wa_message,
    wa_status,
    whatsapp,
)
from tickets import services
from tickets.models import Message

db = pytest.mark.django_db
PSID = "6789012345"


def _now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def _page(client, process, *entries, obj="page"):
    with process:
        assert post(client, body(obj, *entries)).status_code == 200


def _get(cast, **filters) -> Message:
    with tenant_context(cast.tenant_a.pk):
        return Message.objects.select_related("ticket__customer").get(**filters)


def _profile_calls(server) -> list[str]:
    return [r.path for r, _ in server.log if r.method == "GET" and PROFILE_PATH.match(r.path)]


def _dm(mid: str, *, sender: str = PSID, page: str = PAGE):
    return messenger_event(
        page=page, sender=sender, ts=_now_ms(), message={"mid": mid, "text": "hola"}
    )


@db
def test_a_messenger_customer_is_named_from_graph_once(client, fb, process, cast, meta_settings):
    _page(client, process, _dm("m_n1"))
    _page(client, process, _dm("m_n2"))
    first = _get(cast, provider_id="m_n1")
    assert first.ticket.customer.name == "Valentina Soto"
    assert _profile_calls(meta_settings) == [f"/v25.0/{PSID}"]  # the second message: cached
    request = next(r for r, _ in meta_settings.log if r.path == f"/v25.0/{PSID}")
    assert request.headers["Authorization"] == f"Bearer {PAGE_TOKEN}"
    assert request.args["fields"] == "first_name,last_name"
    # Another process (its own memory empty) still asks Graph nothing: the shared cache knows.
    _local.clear()
    _page(client, process, _dm("m_n3"))
    assert len(_profile_calls(meta_settings)) == 1


@db
def test_an_instagram_customer_is_named_by_username(client, ig, process, cast, meta_settings):
    _page(client, process, _dm("ig_n1", sender="IGSID9", page=IG), obj="instagram")
    message = _get(cast, provider_id="ig_n1")
    assert message.ticket.customer.name == "vale.soto"


@db
def test_a_failed_lookup_keeps_the_message_and_the_name_comes_later(
    client, fb, process, cast, meta_settings
):
    meta_settings.clear_all_handlers()
    meta_settings.expect_request(PROFILE_PATH, method="GET").respond_with_json(
        {"error": {"message": "Unsupported get request", "code": 100}}, status=400
    )
    _page(client, process, _dm("m_f1"))
    message = _get(cast, provider_id="m_f1")
    assert message.ticket.customer.name == ""  # the placeholder, «Cliente sin nombre»
    agent = Client()
    agent.force_login(cast.agent)
    assert "Cliente sin nombre" in agent.get(f"/tickets/{message.ticket.number}/").content.decode()
    calls = len(_profile_calls(meta_settings))  # the lookup and its retry task, both refused
    _page(client, process, _dm("m_f2"))  # a moment later: no new Graph call
    assert len(_profile_calls(meta_settings)) == calls
    # Meta answers again: the retry task names the customer and the card follows.
    meta_settings.clear_all_handlers()
    answer_profiles(meta_settings)
    with tenant_context(cast.tenant_a.pk):
        refresh_meta_profile.apply(args=(cast.tenant_a.pk, fb.pk, PSID))
    assert _get(cast, provider_id="m_f1").ticket.customer.name == "Valentina Soto"
    assert cache.get(_key(fb, PSID)) == "Valentina Soto"


@db
def test_a_named_customer_is_never_looked_up(client, fb, process, cast, meta_settings):
    _page(client, process, _dm("m_k1"))
    _local.clear()
    cache.delete(_key(fb, PSID))
    _page(client, process, _dm("m_k2"))
    assert len(_profile_calls(meta_settings)) == 1  # the database knew the name


def _composer(cast, number: int) -> str:
    agent = Client()
    agent.force_login(cast.agent)
    return agent.get(f"/tickets/{number}/").content.decode()


def _age(cast, message: Message, **delta) -> None:
    with tenant_context(cast.tenant_a.pk):
        Message.objects.filter(pk=message.pk).update(
            created_at=timezone.now() - datetime.timedelta(**delta)
        )


@db
def test_the_composer_and_the_service_follow_the_messenger_windows(
    client, fb, process, cast, meta_settings
):
    _page(client, process, _dm("m_w1"))
    incoming = _get(cast, provider_id="m_w1")
    number = incoming.ticket.number
    page = _composer(cast, number)
    assert 'data-meta-window="response"' in page and 'name="text" rows="3"' in page

    _age(cast, incoming, days=3)
    page = _composer(cast, number)
    assert 'data-meta-window="human_agent"' in page and "agente humano" in page
    with tenant_context(cast.tenant_a.pk):
        bot = bot_user_create(tenant_id=cast.tenant_a.pk, handle="bot")
        with pytest.raises(services.ActionRefused, match="solo una persona"):
            services.message_send(ticket=incoming.ticket, author=bot, text="Respuesta automática")
        services.message_send(ticket=incoming.ticket, author=cast.agent, text="Soy Ana")

    _age(cast, incoming, days=8)
    page = _composer(cast, number)
    assert 'data-meta-window="closed"' in page and "más de 7 días" in page
    assert 'name="text" rows="3"' not in page  # nothing to type into
    agent = Client()
    agent.force_login(cast.agent)
    refused = agent.post(
        f"/tickets/{number}/reply/", {"text": "¿Sigues ahí?"}, HTTP_HX_REQUEST="true"
    )
    assert "más de 7 días" in refused.content.decode()
    with tenant_context(cast.tenant_a.pk):
        assert not Message.objects.filter(text="¿Sigues ahí?").exists()


@db
def test_an_instagram_customer_who_only_commented_gets_public_answers(
    client, ig, process, cast, meta_settings
):
    now = int(timezone.now().timestamp())
    entry = {
        "id": IG,
        "time": now,
        "changes": [
            {
                "field": "comments",
                "value": {
                    "id": "IGC5",
                    "from": {"id": "IGSID5", "username": "martina.rojas"},
                    "text": "¿Precio?",
                    "media": {"id": "MEDIA1"},
                },
            }
        ],
    }
    _page(client, process, entry, obj="instagram")
    comment = _get(cast, provider_id="IGC5")
    page = _composer(cast, comment.ticket.number)
    assert 'data-meta-window="comments_only"' in page
    _age(cast, comment, days=8)
    with tenant_context(cast.tenant_a.pk):
        with pytest.raises(services.ActionRefused, match="más de 7 días desde el comentario"):
            services.message_send(
                ticket=comment.ticket, author=cast.agent, text="Por interno", is_public=False
            )
        public = services.message_send(
            ticket=comment.ticket, author=cast.agent, text="Cuesta $9.990", reply_to=comment
        )
    assert public.is_public


@db
def test_whatsapp_errors_about_the_number_are_kept_on_the_account(client, wa, process, cast):
    errors = [
        {
            "code": 131000,
            "title": "Something went wrong",
            "message": "Something went wrong",
            "error_data": {"details": "Unknown error, try again"},
        },
        {"code": 190, "title": "Access token expired", "message": "expired"},
    ]
    with process:
        assert post(client, whatsapp(wa_envelope(NUMBER_A, {"errors": errors}))).status_code == 200
    with bypass_context():
        wa.refresh_from_db()
    texts = [n["text"] for n in wa.settings["notices"]]
    assert "Something went wrong · Unknown error, try again" in texts[1]
    assert "reconecta la cuenta" in texts[0] and "reconecta" in wa.reconnect_reason
    admin = Client()
    admin.force_login(cast.admin)
    page = admin.get(f"/admin/channels/{wa.pk}/").content.decode()
    assert "Avisos de Meta" in page and "Unknown error, try again" in page


@db
def test_a_failed_status_with_another_code_shows_metas_title(
    client, wa, process, cast, meta_settings
):
    with process:
        post(
            client, whatsapp(wa_message(wamid="wamid.IN", ts=str(int(timezone.now().timestamp()))))
        )
    meta_settings.expect_request(f"/v25.0/{NUMBER_A}/messages").respond_with_json(
        {"messages": [{"id": "wamid.X"}]}
    )
    with tenant_context(cast.tenant_a.pk):
        ticket = Message.objects.get(provider_id="wamid.IN").ticket
        reply = services.message_send(ticket=ticket, author=cast.agent, text="Hola")
        services.message_deliver(message_id=reply.pk)
    error = {
        "code": 131053,
        "title": "Media upload error",
        "message": "x",
        "error_data": {"details": "Unsupported format"},
    }
    with process:
        post(client, whatsapp(wa_status("wamid.X", "failed", errors=[error])))
    failed = _get(cast, pk=reply.pk)
    assert failed.failure_reason == "Meta: Media upload error · Unsupported format (código 131053)"
