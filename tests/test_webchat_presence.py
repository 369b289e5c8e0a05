"""«Estamos en línea» on the web chat comes from the agents' presence of the assignment engine
(sockets and heartbeat in the database): wrong neither after a crash nor for someone «Ausente»,
and only for people who would get this chat."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from deskconfig.models import AssignmentMode, AssignmentRule
from helpdesk.models import Availability, User
from helpdesk.tenancy import bypass_context, tenant_context
from workflow import presence

pytestmark = pytest.mark.django_db

ONLINE = "Estamos en línea"


@pytest.fixture
def chat(cast) -> ChannelAccount:
    with tenant_context(cast.tenant_a.pk):
        return ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat")


def _online(chat: ChannelAccount) -> bool:
    return ONLINE in Client().get(f"/chat/{chat.uuid}/").content.decode()


def _set(user: User, **fields: object) -> None:
    with bypass_context():
        User.objects.filter(pk=user.pk).update(**fields)


def _connect(user: User) -> None:
    """What the desk's socket does when it opens (desk.consumers)."""
    with bypass_context():
        presence.person_connected(user.pk)


def test_nobody_connected_is_not_online(chat):
    assert not _online(chat)


def test_an_available_agent_with_the_desk_open_is_online(chat, cast):
    _connect(cast.agent)
    assert _online(chat)


def test_an_agent_who_set_away_is_not_online(chat, cast):
    _connect(cast.agent)
    _set(cast.agent, availability=Availability.AWAY)
    assert not _online(chat)


def test_sockets_left_counted_by_a_crashed_worker_stop_counting_after_the_window(chat, cast):
    _connect(cast.agent)
    _set(cast.agent, presence_seen_at=timezone.now() - presence.WINDOW - datetime.timedelta(1))
    assert not _online(chat)


def test_people_who_would_not_get_this_chat_do_not_count(chat, cast):
    _connect(cast.agent)
    _connect(cast.analyst)  # analysts never take tickets
    with tenant_context(cast.tenant_a.pk):
        AssignmentRule.objects.create(
            tenant=cast.tenant_a, user=cast.agent, account=chat, mode=AssignmentMode.NONE
        )
    assert not _online(chat)
    _connect(cast.outsider)  # another tenant's agent
    assert not _online(chat)


def test_the_chat_page_asks_presence_in_one_query(chat, cast):
    _connect(cast.agent)
    client = Client()
    client.get(f"/chat/{chat.uuid}/")
    with CaptureQueriesContext(connection) as queries:
        assert ONLINE in client.get(f"/chat/{chat.uuid}/").content.decode()
    assert len([q for q in queries if '"helpdesk_user"' in q["sql"]]) == 1
