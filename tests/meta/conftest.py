"""Fixtures of the Meta tests: the platform's app secret and verify token, a local server that
answers like the Graph API (pytest-httpserver) as ``GRAPH_API_BASE_URL``, and WhatsApp,
Facebook and Instagram accounts of tenant A (and one WhatsApp number of tenant B)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from helpdesk.tenancy import bypass_context
from tests.conftest import Cast
from tests.meta.payloads import IG, NUMBER_A, NUMBER_B, PAGE, SECRET, VERIFY, WABA

TOKEN_A = "EAAtoken-tenant-a-SECRET"
TOKEN_B = "EAAtoken-tenant-b-SECRET"
PAGE_TOKEN = "EAApage-token-SECRET"


PROFILE_PATH = re.compile(r"^/v25\.0/[A-Za-z0-9_]+$")


def answer_profiles(server: HTTPServer) -> None:
    """Graph's profile answers for Messenger (PSID) and Instagram (IGSID) customers."""
    server.expect_request(
        PROFILE_PATH, method="GET", query_string={"fields": "first_name,last_name"}
    ).respond_with_json({"first_name": "Valentina", "last_name": "Soto", "id": "x"})
    server.expect_request(
        PROFILE_PATH, method="GET", query_string={"fields": "name,username"}
    ).respond_with_json({"name": "", "username": "vale.soto", "id": "x"})


@pytest.fixture(autouse=True)
def meta_settings(settings: Any, tmp_path: Any, httpserver: HTTPServer) -> Iterator[HTTPServer]:
    settings.META_APP_SECRET = SECRET
    settings.META_VERIFY_TOKEN = VERIFY
    settings.META_APP_ID = "1234567890"
    settings.GRAPH_API_BASE_URL = httpserver.url_for("").rstrip("/")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    answer_profiles(httpserver)
    yield httpserver
    httpserver.clear()


def _account(
    tenant: Any, kind: str, name: str, settings: dict[str, Any], creds: dict[str, Any]
) -> ChannelAccount:
    with bypass_context():
        return ChannelAccount.objects.create(
            tenant=tenant, kind=kind, name=name, settings=settings, credentials=creds
        )


@pytest.fixture
def wa(cast: Cast) -> ChannelAccount:
    return _account(
        cast.tenant_a,
        ChannelKind.WHATSAPP,
        "WhatsApp ventas",
        {"phone_number_id": NUMBER_A, "waba_id": WABA},
        {"access_token": TOKEN_A},
    )


@pytest.fixture
def wa_b(cast: Cast) -> ChannelAccount:
    return _account(
        cast.tenant_b,
        ChannelKind.WHATSAPP,
        "WhatsApp B",
        {"phone_number_id": NUMBER_B, "waba_id": "999"},
        {"access_token": TOKEN_B},
    )


@pytest.fixture
def fb(cast: Cast) -> ChannelAccount:
    return _account(
        cast.tenant_a,
        ChannelKind.FACEBOOK,
        "Página",
        {"page_id": PAGE},
        {"page_access_token": PAGE_TOKEN},
    )


@pytest.fixture
def ig(cast: Cast) -> ChannelAccount:
    return _account(
        cast.tenant_a,
        ChannelKind.INSTAGRAM,
        "Instagram",
        {"instagram_account_id": IG},
        {"page_access_token": PAGE_TOKEN},
    )


@pytest.fixture
def process(eager_celery: None, django_capture_on_commit_callbacks: Any) -> Any:
    """Run what a webhook enqueues (the processing task) here and now."""

    class _Runner:
        def __enter__(self) -> None:
            self._cm = django_capture_on_commit_callbacks(execute=True)
            self._cm.__enter__()

        def __exit__(self, *exc: Any) -> None:
            self._cm.__exit__(*exc)

    return _Runner()
