"""Fixtures of the tickets tests: tenant A's context, a channel account, the tenant's bot,
attachments in a temporary folder, an eager Celery and a recording connector."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from channels_conn.base import ConnectorError, connector_for, register, unregister
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from helpdesk.models import User
from helpdesk.services import tenant_bot
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import Cast
from tests.tickets.factories import BotUserFactory, ChannelAccountFactory
from tests.tickets.helpers import RecordingConnector


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Attachments are written under the test's own temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def account(in_a: Cast) -> ChannelAccount:
    return ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.EMAIL, name="Soporte")


@pytest.fixture
def bot(cast: Cast) -> User:
    with bypass_context():
        BotUserFactory(tenant=cast.tenant_a)
    with tenant_context(cast.tenant_a.pk):
        return tenant_bot(cast.tenant_a)


@contextmanager
def _swap_connector(kind: str, replacement: RecordingConnector | None) -> Iterator[None]:
    """Register ``replacement`` (or nothing) for ``kind``; put back what was there after."""
    try:
        previous = connector_for(kind)
    except ConnectorError:
        previous = None
    unregister(kind)
    if replacement is not None:
        register(replacement)
    try:
        yield
    finally:
        unregister(kind)
        if previous is not None:
            register(previous)


@pytest.fixture
def connector(account: ChannelAccount) -> Iterator[RecordingConnector]:
    """The test's own sender for the account's channel kind, unregistered afterwards."""
    recorder = RecordingConnector(account.kind)
    with _swap_connector(account.kind, recorder):
        yield recorder


@pytest.fixture
def no_connector() -> Iterator[str]:
    """A channel kind with no connector registered during the test."""
    with _swap_connector(ChannelKind.WEBCHAT, None):
        yield ChannelKind.WEBCHAT
