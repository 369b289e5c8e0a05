"""Reading X with tweepy's real calls against a local X API v2: mentions with pagination,
DMs, threads, echoes, rate limits, revoked credentials, server errors, no overlap, resume."""

from __future__ import annotations

import datetime
import time

import pytest
from django.utils import timezone

from channels_conn.twitter.models import TwitterEvent, TwitterState
from channels_conn.twitter.poll import poll_account, poll_claim
from channels_conn.twitter.tasks import poll_due_x_accounts
from deskconfig.accounts import ChannelAccount
from tests.tickets.helpers import run_in_threads
from tests.twitter.conftest import make_x_account
from tests.xapi import FakeX
from tickets.models import CustomerIdentity, Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _state(account: ChannelAccount) -> TwitterState:
    return TwitterState.objects.get(account=account)


def _in_use(account: ChannelAccount, since_id: str = "1") -> None:
    """An account polled before: its cursor is stored."""
    TwitterState.objects.create(tenant_id=account.tenant_id, account=account, since_id=since_id)


def test_mentions_follow_every_page_and_become_public_mention_messages(x_account, x_api: FakeX):
    _in_use(x_account)
    ana = x_api.user("ana_rojas", "Ana Rojas")
    ids = [x_api.mention(ana, f"@TiendaDemoCL consulta {n}") for n in range(7)]

    result = poll_account(x_account)

    assert result.stored == 7 and result.processed == 7 and result.error == ""
    calls = x_api.endpoint_calls("mentions")
    assert len(calls) == 3  # 3 + 3 + 1 with the server's page size
    assert [c.get("pagination_token") for c in calls] == [None, "3", "6"]
    assert all(c["since_id"] == "1" for c in calls)
    assert (
        "author_id" in calls[0]["expansions"] and "referenced_tweets.id" in calls[0]["expansions"]
    )
    messages = list(Message.objects.filter(account=x_account).order_by("provider_id"))
    assert [m.provider_id for m in messages] == sorted(ids)
    assert all(m.is_public and m.is_mention and m.direction == "in" for m in messages)
    assert Ticket.objects.filter(account=x_account).count() == 1  # one customer, one ticket
    identity = CustomerIdentity.objects.get(kind="twitter")
    assert identity.value == "ana_rojas" and identity.customer.name == "Ana Rojas"
    assert _state(x_account).since_id == max(ids, key=int)


def test_a_restart_resumes_from_the_stored_since_id_without_duplicates(x_account, x_api: FakeX):
    _in_use(x_account)
    ana = x_api.user("ana_rojas")
    first = x_api.mention(ana, "@TiendaDemoCL hola")
    poll_account(x_account)
    second = x_api.mention(ana, "@TiendaDemoCL ¿me responden?")

    result = poll_account(x_account)  # a new process: only the stored state is known

    assert x_api.endpoint_calls("mentions")[-1]["since_id"] == first
    assert result.stored == 1
    assert Message.objects.filter(account=x_account).count() == 2
    assert _state(x_account).since_id == second
    # Reading the same tweets again (a cursor lost) stores and files nothing twice.
    TwitterState.objects.filter(account=x_account).update(since_id="1")
    again = poll_account(x_account)
    assert again.stored == 0 and again.duplicates == 2
    assert Message.objects.filter(account=x_account).count() == 2


def test_the_first_poll_reads_only_the_newest_page(x_account, x_api: FakeX):
    ana = x_api.user("ana_rojas")
    ids = [x_api.mention(ana, f"@TiendaDemoCL viejo {n}") for n in range(5)]
    poll_account(x_account)
    assert len(x_api.endpoint_calls("mentions")) == 1
    assert Message.objects.filter(account=x_account).count() == 3
    assert _state(x_account).since_id == ids[-1]


def test_thread_replies_quotes_and_our_own_echoes(x_account, x_api: FakeX):
    _in_use(x_account)
    ana = x_api.user("ana_rojas", "Ana Rojas")
    pedro = x_api.user("pedro_p", "Pedro")
    root = x_api.mention(ana, "@TiendaDemoCL mi pedido no llega")
    poll_account(x_account)
    ticket = Message.objects.get(provider_id=root).ticket

    # Another person answers in Ana's thread; we answer too (our own tweet comes back).
    reply = x_api.mention(pedro, "@ana_rojas @TiendaDemoCL a mí igual", replied_to=root, conv=root)
    ours = x_api.mention(x_api.user_id, "@ana_rojas lo revisamos", replied_to=root, conv=root)
    quote = x_api.mention(pedro, "Ojo con @TiendaDemoCL", quoted=root)
    result = poll_account(x_account)

    assert result.skipped == 1
    assert not Message.objects.filter(provider_id=ours).exists()
    in_thread = Message.objects.get(provider_id=reply)
    assert in_thread.ticket_id == ticket.pk and in_thread.reply_to.provider_id == root
    quoted = Message.objects.get(provider_id=quote)
    assert quoted.is_mention and quoted.is_public
    assert TwitterEvent.objects.get(event_id=quote).payload["referenced"][0]["id"] == root


def test_dms_become_private_messages_newest_first_without_since_id(x_account, x_api: FakeX):
    ana = x_api.user("ana_rojas", "Ana Rojas")
    one = x_api.dm(ana, "Hola, escribo por interno")
    x_api.dm(x_api.user_id, "Hola Ana, cuéntanos")  # ours, seen in the conversation
    poll_account(x_account)
    message = Message.objects.get(provider_id=one)
    assert not message.is_public and not message.is_mention
    assert Message.objects.filter(account=x_account).count() == 1

    ids = [x_api.dm(ana, f"más detalles {n}") for n in range(4)]
    result = poll_account(x_account)

    assert result.stored == 4 and result.duplicates == 0
    calls = x_api.endpoint_calls("dm_events")
    assert calls[-1]["event_types"] == "MessageCreate"
    # Two pages newest first, then it stops at the newest event stored before.
    assert len(calls) == 1 + 2
    assert set(Message.objects.values_list("provider_id", flat=True)) >= set(ids)
    assert _state(x_account).dm_newest_id == ids[-1]


def test_429_waits_until_the_reset_for_that_account_while_others_go_on(
    in_a, x_account, x_api: FakeX, eager_celery
):
    _in_use(x_account)
    other = make_x_account(in_a.tenant_a, user_id="2222", name="@Otra")
    x_api.users["2222"] = {"id": "2222", "name": "Otra", "username": "otra"}
    ana = x_api.user("ana_rojas")
    x_api.mention(ana, "@TiendaDemoCL hola")
    reset = int(time.time()) + 600
    x_api.fail("mentions", 429, {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"})

    result = poll_account(x_account)

    state = _state(x_account)
    assert "limitó" in result.error
    assert state.rate_limited_until == datetime.datetime.fromtimestamp(reset, tz=datetime.UTC)
    assert state.next_poll_at == state.rate_limited_until
    assert Message.objects.filter(account=x_account).count() == 0
    # The beat polls the other account (due) and leaves the limited one alone.
    before = len(x_api.endpoint_calls("mentions"))
    assert poll_due_x_accounts() == 1
    assert _state(other).polled_at is not None
    assert len(x_api.endpoint_calls("mentions")) == before + 1
    # After the reset the account reads what waited.
    TwitterState.objects.filter(account=x_account).update(next_poll_at=timezone.now())
    assert poll_account(x_account).processed == 1


def test_slow_down_when_the_remaining_calls_are_few(x_account, x_api: FakeX):
    _in_use(x_account)
    x_api.remaining = 3  # 3 calls left for the next 900 s: one poll every 300 s at most
    poll_account(x_account)
    state = _state(x_account)
    assert state.interval_seconds >= 290
    assert state.next_poll_at is not None
    assert state.next_poll_at >= timezone.now() + datetime.timedelta(seconds=280)


def test_401_marks_the_account_reconnect_with_the_reason_in_spanish(cast, x_account, x_api: FakeX):
    from tests.conftest import client_for

    x_api.fail("mentions", 401)
    poll_account(x_account)
    x_account.refresh_from_db()
    assert x_account.active  # one rule for every channel: marked, never switched off
    assert "401" in x_account.reconnect_reason and "reconecta" in x_account.reconnect_reason
    assert x_account.reconnect_since is not None
    page = client_for(cast.admin).get(f"/admin/channels/{x_account.pk}/").content.decode()
    assert "data-reconnect" in page and "Reconectar" in page and "portal de desarrolladores" in page
    assert poll_due_x_accounts() == 0  # not polled until reconnected
    calls = len(x_api.calls)
    assert poll_account(x_account).error == x_account.reconnect_reason  # X is not asked again
    assert len(x_api.calls) == calls
    # «Reconectar» clears the mark: the beat reads the account again.
    client_for(cast.admin).post(f"/admin/channels/{x_account.pk}/reconnect/")
    x_account.refresh_from_db()
    assert x_account.reconnect_reason == "" and x_account.reconnect_since is None
    TwitterState.objects.filter(account=x_account).update(next_poll_at=None)
    assert poll_due_x_accounts() == 1


def test_403_also_asks_to_reconnect(x_account, x_api: FakeX):
    x_api.fail("dm_events", 403)
    poll_account(x_account)
    x_account.refresh_from_db()
    assert x_account.active and "403" in x_account.reconnect_reason


def test_5xx_is_retried_with_a_growing_delay(x_account, x_api: FakeX):
    x_api.fail("mentions", 503)
    x_api.fail("mentions", 503)
    start = timezone.now()
    poll_account(x_account)
    first = _state(x_account)
    assert first.server_errors == 1 and "503" in first.last_error
    assert first.next_poll_at is not None
    assert first.next_poll_at - start < datetime.timedelta(seconds=70)
    poll_account(x_account)
    second = _state(x_account)
    assert second.server_errors == 2
    assert second.next_poll_at is not None
    assert second.next_poll_at - start >= datetime.timedelta(seconds=115)
    x_account.refresh_from_db()
    assert x_account.active
    poll_account(x_account)
    assert _state(x_account).server_errors == 0 and _state(x_account).last_error == ""


def test_one_poll_at_a_time_per_account(cast, x_account, x_api: FakeX):
    _in_use(x_account)
    ana = x_api.user("ana_rojas")
    for n in range(4):
        x_api.mention(ana, f"@TiendaDemoCL {n}")
    held = poll_claim(x_account)
    assert held is not None
    assert poll_account(x_account).claimed is False  # the held claim blocks a second poll
    TwitterState.objects.filter(account=x_account).update(claimed_until=None)

    account_id = x_account.pk

    def poll() -> bool:
        return poll_account(ChannelAccount.objects.get(pk=account_id)).claimed

    outcomes = run_in_threads(cast.tenant_a.pk, [poll] * 4)
    assert sum(outcomes) >= 1
    assert Message.objects.filter(account=x_account).count() == 4
    assert len(x_api.endpoint_calls("mentions")) == 2 * sum(outcomes)  # 2 pages per poll


def test_an_account_without_its_keys_is_not_sent_to_x(in_a, x_api: FakeX):
    account = make_x_account(in_a.tenant_a)
    account.credentials = {"api_key": "solo-esta"}
    account.save()
    result = poll_account(account)
    assert "Faltan credenciales" in result.error
    assert x_api.calls == []
    account.refresh_from_db()
    assert account.active
    state = _state(account)
    assert state.next_poll_at is not None and state.next_poll_at > timezone.now()
    assert poll_due_x_accounts() == 0  # not due again for an hour


def test_an_event_that_failed_is_shown_and_can_be_retried(cast, x_account, x_api: FakeX):
    from tests.conftest import client_for

    _in_use(x_account)
    nameless = "777"  # an author X did not expand: no username, identified by id
    tid = x_api.mention(nameless, "@TiendaDemoCL hola")
    poll_account(x_account)
    assert Message.objects.filter(provider_id=tid).exists()
    # A stored event that cannot be filed (an empty author) is set aside and shown.
    event = TwitterEvent.objects.create(
        tenant=cast.tenant_a,
        account=x_account,
        kind="mention",
        event_id="42",
        payload={"tweet": {"id": "42", "text": "sin autor"}},
    )
    poll_account(x_account)
    event.refresh_from_db()
    assert event.status == TwitterEvent.Status.FAILED and event.error
    admin = client_for(cast.admin)
    page = admin.get(f"/admin/channels/{x_account.pk}/").content.decode()
    assert "no se pudo archivar" in page and "Reintentar" in page
    TwitterEvent.objects.filter(pk=event.pk).update(
        payload={"tweet": {"id": "42", "text": "sin autor", "author_id": "888"}}
    )
    response = admin.post(f"/admin/channels/{x_account.pk}/x/retry/")
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == TwitterEvent.Status.PROCESSED
    assert Message.objects.get(provider_id="42").text == "sin autor"
