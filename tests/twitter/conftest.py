"""The X tests: tenant A's X account pointed at a local server that answers like X API v2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from tests.conftest import Cast
from tests.tickets.factories import ChannelAccountFactory
from tests.xapi import API_KEY, BEARER, OUR_ID, OUR_USERNAME, FakeX


@pytest.fixture
def x_api(httpserver: HTTPServer, settings: Any) -> Iterator[FakeX]:
    settings.TWITTER_API_BASE_URL = httpserver.url_for("").rstrip("/")
    yield FakeX(httpserver)
    httpserver.clear()


def make_x_account(tenant: Any, *, user_id: str = OUR_ID, name: str = "@TiendaDemoCL") -> Any:
    return ChannelAccountFactory(
        tenant=tenant,
        kind=ChannelKind.TWITTER,
        name=name,
        settings={"user_id": user_id, "username": OUR_USERNAME},
        credentials={
            "api_key": API_KEY,
            "api_secret": "api-secret",
            "access_token": "access-token",
            "access_token_secret": "access-secret",
            "bearer_token": BEARER,
        },
    )


@pytest.fixture
def x_account(in_a: Cast, x_api: FakeX) -> ChannelAccount:
    account: ChannelAccount = make_x_account(in_a.tenant_a)
    return account


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
