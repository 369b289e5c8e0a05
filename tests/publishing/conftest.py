"""Scheduled posts: tenant A's X account on the local X API and its Facebook page on a local
server that answers like Graph (``POST /v25.0/{page-id}/feed`` and ``/photos``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from tests.conftest import Cast
from tests.tickets.factories import ChannelAccountFactory
from tests.twitter.conftest import make_x_account
from tests.xapi import FakeX

PAGE_ID = "104857623190455"
PAGE_TOKEN = "page-token-demo"


@dataclass
class FakeGraph:
    server: HTTPServer
    posts: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for edge in ("feed", "photos"):
            self.server.expect_request(
                f"/v25.0/{PAGE_ID}/{edge}", method="POST"
            ).respond_with_handler(self._post)

    def fail(self, code: int, message: str, status: int = 400) -> None:
        self.failures.append(
            (
                status,
                {
                    "error": {
                        "message": message,
                        "type": "OAuthException",
                        "code": code,
                        "fbtrace_id": "AbCdEf",
                    }
                },
            )
        )

    def _post(self, request: Request) -> Response:
        with self._lock:
            if request.headers.get("Authorization") != f"Bearer {PAGE_TOKEN}":
                body = {"error": {"message": "Invalid OAuth access token.", "code": 190}}
                return Response(json.dumps(body), 400, content_type="application/json")
            if self.failures:
                status, body = self.failures.pop(0)
                return Response(json.dumps(body), status, content_type="application/json")
            n = len(self.posts) + 1
            post_id = f"{PAGE_ID}_{122131676912594000 + n}"
            photo = request.path.endswith("/photos")
            self.posts.append(
                {
                    "id": post_id,
                    "message": request.form.get("message") or request.form.get("caption"),
                    "photo": photo,
                    "image_bytes": len(request.files["source"].read()) if photo else 0,
                }
            )
        answer = {"id": str(n), "post_id": post_id} if photo else {"id": post_id}
        return Response(json.dumps(answer), 200, content_type="application/json")


@pytest.fixture
def x_api(httpserver: HTTPServer, settings: Any) -> Iterator[FakeX]:
    settings.TWITTER_API_BASE_URL = httpserver.url_for("").rstrip("/")
    yield FakeX(httpserver)


@pytest.fixture
def graph(httpserver: HTTPServer, settings: Any, x_api: FakeX) -> FakeGraph:
    settings.GRAPH_API_BASE_URL = httpserver.url_for("").rstrip("/")
    return FakeGraph(httpserver)


@pytest.fixture
def x_account(in_a: Cast, x_api: FakeX) -> ChannelAccount:
    account: ChannelAccount = make_x_account(in_a.tenant_a)
    return account


@pytest.fixture
def page_account(in_a: Cast, graph: FakeGraph) -> ChannelAccount:
    account: ChannelAccount = ChannelAccountFactory(
        tenant=in_a.tenant_a,
        kind=ChannelKind.FACEBOOK,
        name="Tienda Demo",
        settings={"page_id": PAGE_ID},
        credentials={"page_access_token": PAGE_TOKEN, "app_secret": "s"},
    )
    return account


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
