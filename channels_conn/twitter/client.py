"""tweepy pointed at ``TWITTER_API_BASE_URL``, with timeouts, and the account's credentials.

tweepy writes ``https://api.twitter.com`` (and ``https://upload.twitter.com`` for media) into
every URL and sends without a timeout. Rather than patch the library, the client gets a
``requests.Session`` of ours that moves those URLs to the configured base and always passes a
timeout; the OAuth 1.0a signature is computed on the final URL, so it stays valid. The session
also keeps the last response's rate-limit headers, which tweepy does not return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
import tweepy
from django.conf import settings

from deskconfig.accounts import ChannelAccount

TWITTER_HOSTS = ("https://api.twitter.com", "https://upload.twitter.com")
TIMEOUT = (5.0, 20.0)  # connect, read


class RebasedSession(requests.Session):
    """Sends what tweepy addresses to X's hosts to ``base`` instead, with a timeout."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base.rstrip("/")
        self.last_headers: dict[str, str] = {}

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        target = url.decode() if isinstance(url, bytes) else url
        for host in TWITTER_HOSTS:
            if target.startswith(host + "/"):
                target = self.base + target[len(host) :]
                break
        kwargs.setdefault("timeout", TIMEOUT)
        verb = method.decode() if isinstance(method, bytes) else method
        response = super().request(verb, target, *args, **kwargs)
        self.last_headers = {k.lower(): v for k, v in response.headers.items()}
        return response


@dataclass(frozen=True)
class XCredentials:
    user_id: str
    username: str
    api_key: str
    api_secret: str
    access_token: str
    access_token_secret: str
    bearer_token: str

    @classmethod
    def of(cls, account: ChannelAccount) -> XCredentials:
        s: dict[str, Any] = account.settings or {}
        c: dict[str, Any] = account.credentials if isinstance(account.credentials, dict) else {}
        return cls(
            user_id=str(s.get("user_id") or ""),
            username=str(s.get("username") or ""),
            api_key=str(c.get("api_key") or ""),
            api_secret=str(c.get("api_secret") or ""),
            access_token=str(c.get("access_token") or ""),
            access_token_secret=str(c.get("access_token_secret") or ""),
            bearer_token=str(c.get("bearer_token") or ""),
        )


def make_client(creds: XCredentials) -> tweepy.Client:
    """A v2 client that raises on 429 (a worker never sleeps: the caller reschedules)."""
    client = tweepy.Client(
        bearer_token=creds.bearer_token or None,
        consumer_key=creds.api_key or None,
        consumer_secret=creds.api_secret or None,
        access_token=creds.access_token or None,
        access_token_secret=creds.access_token_secret or None,
        wait_on_rate_limit=False,
    )
    client.session = RebasedSession(settings.TWITTER_API_BASE_URL)
    return client


def make_api(creds: XCredentials) -> tweepy.API:
    """The v1.1 client, only for uploading a post's image (v2 has no upload in tweepy 4)."""
    auth = tweepy.OAuth1UserHandler(
        creds.api_key, creds.api_secret, creds.access_token, creds.access_token_secret
    )
    api = tweepy.API(auth, timeout=int(TIMEOUT[1]))
    api.session = RebasedSession(settings.TWITTER_API_BASE_URL)
    return api


def client_for(account: ChannelAccount) -> tweepy.Client:
    return make_client(XCredentials.of(account))


def rate_headers(client: tweepy.Client | tweepy.API) -> dict[str, str]:
    session = getattr(client, "session", None)
    return dict(getattr(session, "last_headers", {}) or {})
