"""A local server that answers like X API v2 (and v1.1's media upload), for the X tests.

Payload shapes follow ../shared/CHANNELS.md §4: mentions newest first with ``includes`` and
``meta`` (``newest_id``, ``next_token``), DM events newest first with no ``since_id``, 201 on
tweet and DM creation, 429 with ``x-rate-limit-reset``, 401 for unknown credentials. It pages
with its own page size (X may return fewer results than ``max_results``), and can be told to
fail the next calls of an endpoint."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

OUR_ID = "1459830021774618625"
OUR_USERNAME = "TiendaDemoCL"
BEARER = "bearer-demo"
API_KEY = "api-key-demo"


@dataclass
class FakeX:
    server: HTTPServer
    user_id: str = OUR_ID
    username: str = OUR_USERNAME
    page_size: int = 3
    tweets: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    dms: list[dict[str, Any]] = field(default_factory=list)
    created_tweets: list[dict[str, Any]] = field(default_factory=list)
    created_dms: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    uploads: int = 0
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, str], dict[str, Any]]]] = field(
        default_factory=dict
    )
    remaining: int = 449
    _ids: Any = field(default_factory=lambda: itertools.count(1_800_000_000_000_000_000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.users[self.user_id] = {"id": self.user_id, "name": "Tienda", "username": self.username}
        s = self.server
        s.expect_request("/2/users/me", method="GET").respond_with_handler(self._me)
        s.expect_request(re.compile(r"^/2/users/\d+/mentions$")).respond_with_handler(
            self._mentions
        )
        s.expect_request(re.compile(r"^/2/users/\d+$")).respond_with_handler(self._user)
        s.expect_request("/2/dm_events", method="GET").respond_with_handler(self._dm_events)
        s.expect_request("/2/tweets", method="POST").respond_with_handler(self._create_tweet)
        s.expect_request(
            re.compile(r"^/2/dm_conversations/with/\d+/messages$"), method="POST"
        ).respond_with_handler(self._create_dm)
        s.expect_request("/1.1/media/upload.json", method="POST").respond_with_handler(self._upload)

    # --- seeding ----------------------------------------------------------------------------

    def next_id(self) -> str:
        return str(next(self._ids))

    def user(self, username: str, name: str = "") -> str:
        uid = str(abs(hash(username)) % 10**12 + 10**12)
        self.users[uid] = {"id": uid, "name": name or username.title(), "username": username}
        return uid

    def mention(
        self, author: str, text: str, *, replied_to: str = "", quoted: str = "", conv: str = ""
    ) -> str:
        tid = self.next_id()
        tweet: dict[str, Any] = {
            "id": tid,
            "text": text,
            "author_id": author,
            "created_at": "2026-12-06T12:00:00.000Z",
            "conversation_id": conv or tid,
            "edit_history_tweet_ids": [tid],
        }
        refs = [{"type": "replied_to", "id": replied_to}] if replied_to else []
        refs += [{"type": "quoted", "id": quoted}] if quoted else []
        if refs:
            tweet["referenced_tweets"] = refs
        if replied_to:
            tweet["in_reply_to_user_id"] = self.user_id
        self.tweets.append(tweet)
        return tid

    def dm(self, sender: str, text: str) -> str:
        eid = self.next_id()
        self.dms.append(
            {
                "id": eid,
                "event_type": "MessageCreate",
                "text": text,
                "sender_id": sender,
                "dm_conversation_id": f"{min(sender, self.user_id)}-{max(sender, self.user_id)}",
                "created_at": "2026-12-06T12:00:00.000Z",
            }
        )
        return eid

    def fail(self, endpoint: str, status: int, headers: dict[str, str] | None = None) -> None:
        """The next call of ``endpoint`` ("mentions", "dm_events", "tweets", "dm", "me")
        answers ``status`` with X's error body."""
        body = {
            401: {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
            403: {
                "title": "Forbidden",
                "detail": "You are not permitted to perform this action.",
                "type": "about:blank",
                "status": 403,
            },
            429: {"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
        }.get(
            status,
            {"title": "Service Unavailable", "detail": "Service Unavailable", "status": status},
        )
        self.failures.setdefault(endpoint, []).append((status, headers or {}, body))

    # --- answering --------------------------------------------------------------------------

    def _json(
        self, body: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        reset = str(int(time.time()) + 900)
        h = {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": reset,
        }
        h.update(headers or {})
        return Response(json.dumps(body), status=status, headers=h, content_type="application/json")

    def _check(self, endpoint: str, request: Request, *, bearer: bool) -> Response | None:
        with self._lock:
            self.calls.append((endpoint, request.method, dict(request.args)))
            queued = self.failures.get(endpoint) or []
            if queued:
                status, headers, body = queued.pop(0)
                return self._json(body, status, headers)
        auth = request.headers.get("Authorization", "")
        ok = auth == f"Bearer {BEARER}" if bearer else f'oauth_consumer_key="{API_KEY}"' in auth
        if not ok:
            return self._json(
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
                401,
            )
        return None

    def _me(self, request: Request) -> Response:
        return self._check("me", request, bearer=False) or self._json(
            {"data": self.users[self.user_id]}
        )

    def _user(self, request: Request) -> Response:
        uid = request.path.rsplit("/", 1)[-1]
        failed = self._check("user", request, bearer=True)
        if failed:
            return failed
        if uid not in self.users:
            return self._json(
                {
                    "errors": [
                        {
                            "value": uid,
                            "detail": f"Could not find user with id: [{uid}].",
                            "title": "Not Found Error",
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                }
            )
        return self._json({"data": self.users[uid]})

    def _page(self, items: list[dict[str, Any]], token: str | None) -> tuple[list[Any], str]:
        start = int(token or 0)
        page = items[start : start + self.page_size]
        more = start + self.page_size < len(items)
        return page, str(start + self.page_size) if more else ""

    def _mentions(self, request: Request) -> Response:
        failed = self._check("mentions", request, bearer=True)
        if failed:
            return failed
        since = int(request.args.get("since_id") or 0)
        items = sorted(
            (t for t in self.tweets if int(t["id"]) > since), key=lambda t: -int(t["id"])
        )
        if not items:
            return self._json({"meta": {"result_count": 0}})
        page, token = self._page(items, request.args.get("pagination_token"))
        authors = {t["author_id"] for t in page}
        wanted = {r["id"] for t in page for r in t.get("referenced_tweets", [])}
        known = {t["id"]: t for t in self.tweets}
        body: dict[str, Any] = {
            "data": page,
            "includes": {"users": [self.users[a] for a in sorted(authors) if a in self.users]},
            "meta": {
                "newest_id": items[0]["id"],
                "oldest_id": items[-1]["id"],
                "result_count": len(page),
            },
        }
        refs = [known[i] for i in sorted(wanted) if i in known]
        if refs:
            body["includes"]["tweets"] = refs
        if token:
            body["meta"]["next_token"] = token
        return self._json(body)

    def _dm_events(self, request: Request) -> Response:
        failed = self._check("dm_events", request, bearer=False)
        if failed:
            return failed
        items = sorted(self.dms, key=lambda d: -int(d["id"]))
        if not items:
            return self._json({"meta": {"result_count": 0}})
        page, token = self._page(items, request.args.get("pagination_token"))
        senders = {d["sender_id"] for d in page}
        body: dict[str, Any] = {
            "data": page,
            "includes": {"users": [self.users[s] for s in sorted(senders) if s in self.users]},
            "meta": {"result_count": len(page)},
        }
        if token:
            body["meta"]["next_token"] = token
        return self._json(body)

    def _create_tweet(self, request: Request) -> Response:
        failed = self._check("tweets", request, bearer=False)
        if failed:
            return failed
        payload = json.loads(request.data)
        tid = self.next_id()
        with self._lock:
            self.created_tweets.append({"id": tid, **payload})
        return self._json(
            {"data": {"id": tid, "text": payload["text"], "edit_history_tweet_ids": [tid]}}, 201
        )

    def _create_dm(self, request: Request) -> Response:
        failed = self._check("dm", request, bearer=False)
        if failed:
            return failed
        participant = request.path.split("/")[-2]
        payload = json.loads(request.data)
        eid = self.next_id()
        with self._lock:
            self.created_dms.append((participant, payload))
        conv = f"{min(participant, self.user_id)}-{max(participant, self.user_id)}"
        return self._json({"data": {"dm_conversation_id": conv, "dm_event_id": eid}}, 201)

    def _upload(self, request: Request) -> Response:
        failed = self._check("upload", request, bearer=False)
        if failed:
            return failed
        with self._lock:
            self.uploads += 1
        media_id = self.next_id()
        return self._json(
            {
                "media_id": int(media_id),
                "media_id_string": media_id,
                "size": 10,
                "expires_after_secs": 86400,
                "image": {"image_type": "image/png", "w": 1, "h": 1},
            }
        )

    def endpoint_calls(self, endpoint: str) -> list[dict[str, str]]:
        return [args for name, _m, args in self.calls if name == endpoint]
