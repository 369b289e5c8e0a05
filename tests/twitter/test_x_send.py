"""Answering on X through tweepy's real calls: a public reply to the chosen tweet, a DM to the
author, failures with their reason (and Reintentar), and «Probar conexión»."""

from __future__ import annotations

import pytest

from channels_conn.base import ConnectorError
from channels_conn.twitter.client import XCredentials
from channels_conn.twitter.connector import twitter_connector
from channels_conn.twitter.models import TwitterState
from channels_conn.twitter.poll import poll_account
from channels_conn.twitter.probe import probe_x
from tests.conftest import client_for
from tests.xapi import OUR_ID, FakeX
from tickets import services
from tickets.models import DeliveryStatus, Message

pytestmark = pytest.mark.django_db(transaction=True)


def _mention(account, x_api: FakeX, text: str = "@TiendaDemoCL ¿y mi pedido?") -> Message:
    TwitterState.objects.get_or_create(
        tenant_id=account.tenant_id, account=account, defaults={"since_id": "1"}
    )
    tid = x_api.mention(x_api.user("ana_rojas", "Ana Rojas"), text)
    poll_account(account)
    return Message.objects.get(provider_id=tid)


def test_a_public_reply_answers_the_chosen_tweet(cast, x_account, x_api, eager_celery):
    first = _mention(x_account, x_api, "@TiendaDemoCL primero")
    _mention(x_account, x_api, "@TiendaDemoCL segundo")
    reply = services.message_send(
        ticket=first.ticket, author=cast.agent, text="¡Hola Ana! Lo vemos 👀", reply_to=first
    )
    reply.refresh_from_db()
    assert reply.is_public and reply.status == DeliveryStatus.SENT
    created = x_api.created_tweets[-1]
    assert created["reply"] == {"in_reply_to_tweet_id": first.provider_id}
    assert created["text"] == "¡Hola Ana! Lo vemos 👀"
    assert reply.provider_id == created["id"]


def test_without_a_chosen_tweet_the_reply_goes_to_the_last_one(
    cast, x_account, x_api, eager_celery
):
    _mention(x_account, x_api, "@TiendaDemoCL uno")
    last = _mention(x_account, x_api, "@TiendaDemoCL dos")
    services.message_send(ticket=last.ticket, author=cast.agent, text="Respondemos")
    assert x_api.created_tweets[-1]["reply"]["in_reply_to_tweet_id"] == last.provider_id


def test_a_dm_is_answered_by_dm_to_its_author(cast, x_account, x_api, eager_celery):
    ana = x_api.user("ana_rojas", "Ana Rojas")
    event = x_api.dm(ana, "Hola, por interno")
    poll_account(x_account)
    inbound = Message.objects.get(provider_id=event)
    reply = services.message_send(ticket=inbound.ticket, author=cast.agent, text="Hola Ana")
    reply.refresh_from_db()
    assert not reply.is_public and reply.status == DeliveryStatus.SENT
    assert x_api.created_dms == [(ana, {"text": "Hola Ana"})]
    # A private answer on a mention's ticket reaches the author by DM too.
    mention = _mention(x_account, x_api)
    services.message_send(
        ticket=mention.ticket, author=cast.agent, text="Te escribimos", is_public=False
    )
    assert x_api.created_dms[-1][0] == ana


def test_a_reply_over_xs_length_fails_with_the_reason_and_can_be_retried(
    cast, x_account, x_api, eager_celery
):
    mention = _mention(x_account, x_api)
    text = "Revisa https://tienda.cl/seguimiento " + "á" * 260
    reply = services.message_send(ticket=mention.ticket, author=cast.agent, text=text)
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.FAILED
    assert "291 de 280" in reply.failure_reason and "23" in reply.failure_reason
    assert x_api.created_tweets == []
    page = client_for(cast.agent).get(f"/tickets/{mention.ticket.number}/").content.decode()
    assert "291 de 280" in page and "Reintentar" in page


def test_a_passing_server_error_is_retried_and_then_sent(cast, x_account, x_api):
    mention = _mention(x_account, x_api)
    x_api.fail("tweets", 503)
    reply = services.message_send(ticket=mention.ticket, author=cast.agent, text="Hola")
    # What the delivery task does on each try (it retries a transient error with backoff).
    with pytest.raises(ConnectorError) as passing:
        services.message_deliver(message_id=reply.pk)
    assert not passing.value.permanent and "503" in passing.value.reason
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.QUEUED
    services.message_deliver(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.SENT and len(x_api.created_tweets) == 1
    assert len(x_api.endpoint_calls("tweets")) == 2


def test_errors_of_the_connector(in_a, x_account, x_api):
    mention = _mention(x_account, x_api)
    reply = Message.objects.create(
        tenant=in_a.tenant_a,
        ticket=mention.ticket,
        account=x_account,
        direction="out",
        is_public=True,
        author_kind="agent",
        text="Hola",
        reply_to=mention,
        status=DeliveryStatus.QUEUED,
    )
    x_api.fail("tweets", 429, {"x-rate-limit-reset": "2000000000"})
    with pytest.raises(ConnectorError) as rate:
        twitter_connector.send(x_account, reply)
    assert not rate.value.permanent and "limitó" in rate.value.reason
    x_api.fail("tweets", 403)
    with pytest.raises(ConnectorError) as forbidden:
        twitter_connector.send(x_account, reply)
    assert forbidden.value.permanent and "not permitted" in forbidden.value.reason
    x_account.refresh_from_db()
    assert x_account.active  # a refused tweet is not a revoked account
    x_api.fail("tweets", 401)
    with pytest.raises(ConnectorError) as unauthorized:
        twitter_connector.send(x_account, reply)
    assert unauthorized.value.permanent and "401" in unauthorized.value.reason
    x_account.refresh_from_db()
    assert x_account.active and "401" in x_account.reconnect_reason
    # Marked: the next send is refused with the reason before X is called.
    calls = len(x_api.calls)
    with pytest.raises(ConnectorError) as marked:
        twitter_connector.send(x_account, reply)
    assert marked.value.permanent and "necesita reconectarse" in marked.value.reason
    assert "401" in marked.value.reason and len(x_api.calls) == calls


def _creds(**over: str) -> XCredentials:
    from tests.xapi import API_KEY, BEARER

    values = {
        "user_id": OUR_ID,
        "username": "TiendaDemoCL",
        "api_key": API_KEY,
        "api_secret": "s",
        "access_token": "t",
        "access_token_secret": "ts",
        "bearer_token": BEARER,
    } | over
    return XCredentials(**values)


def test_probe_says_what_is_wrong_in_spanish(x_api, settings):
    ok = probe_x(_creds())
    assert [r.ok for r in ok] == [True, True]
    assert "@TiendaDemoCL" in ok[0].message
    bad_keys = probe_x(_creds(api_key="otra"))
    assert not bad_keys[0].ok and "401" in bad_keys[0].message
    wrong_id = probe_x(_creds(user_id="42"))
    assert not wrong_id[0].ok and "no de la cuenta con ID 42" in wrong_id[0].message
    no_bearer = probe_x(_creds(bearer_token=""))
    assert not no_bearer[1].ok and "bearer" in no_bearer[1].message
    bad_bearer = probe_x(_creds(bearer_token="x"))
    assert not bad_bearer[1].ok and "401" in bad_bearer[1].message
    x_api.fail("me", 503)
    assert "503" in probe_x(_creds())[0].message
    settings.TWITTER_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    assert "No se pudo conectar con X" in probe_x(_creds())[0].message


def test_probe_button_on_the_channels_page(cast, x_account, x_api):
    from deskconfig.reconnect import account_reconnect_needed

    account_reconnect_needed(account=x_account, reason="X rechazó las credenciales (401).")
    admin = client_for(cast.admin)
    page = admin.get(f"/admin/channels/{x_account.pk}/").content.decode()
    assert "Probar conexión" in page
    data = {
        "name": x_account.name,
        "user_id": OUR_ID,
        "username": "TiendaDemoCL",
        "sla_minutes": "60",
        "probe": "1",
    }
    answer = admin.post(f"/admin/channels/{x_account.pk}/", data).content.decode()
    assert "Tokens correctos" in answer and "Bearer token correcto" in answer
    assert x_api.endpoint_calls("me")
    # The stored keys work again: the «Reconectar» mark is gone.
    x_account.refresh_from_db()
    assert x_account.reconnect_reason == "" and x_account.reconnect_since is None
