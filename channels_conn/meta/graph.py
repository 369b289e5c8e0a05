"""The one HTTP client of the Graph API (WhatsApp Cloud API, Messenger, Instagram).

One ``requests.Session`` per process, with connect/read timeouts and retries with backoff on
429 and 5xx; the base URL and version are settings (tests point them at a local server). The
token travels in the ``Authorization`` header only, so it never appears in a URL, a log line or
an error message. Media is downloaded only from the Graph host or Meta's CDN hosts, without
redirects and within a size limit: never from an arbitrary URL a payload names.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from channels_conn.meta.collect import network_check

log = logging.getLogger(__name__)

TIMEOUT = (5.0, 20.0)  # connect, read
RETRY_STATUSES = (429, 500, 502, 503, 504)
TRANSIENT_CODES = {1, 2, 4, 17, 341, 130429, 131000, 131016, 131056, 613}

_lock = threading.Lock()
_session: requests.Session | None = None


def session() -> requests.Session:
    """The process's session (connection pooling across sends and downloads). Refused inside
    a batch of webhook events (``collect.NeedsNetwork``): no network inside a transaction."""
    global _session
    network_check()
    if _session is None:
        with _lock:
            if _session is None:
                retry = Retry(
                    total=3,
                    connect=2,
                    read=1,
                    status=3,
                    backoff_factor=0.3,
                    status_forcelist=RETRY_STATUSES,
                    allowed_methods=None,  # Meta asks to retry sends on 429/5xx too
                    respect_retry_after_header=True,
                    raise_on_status=False,
                )
                s = requests.Session()
                adapter = HTTPAdapter(max_retries=retry, pool_connections=8, pool_maxsize=32)
                s.mount("https://", adapter)
                s.mount("http://", adapter)
                _session = s
    return _session


@dataclass
class GraphError(Exception):
    """A Graph API refusal or a network failure, without the token."""

    status: int
    code: int
    subcode: int
    message: str

    def __str__(self) -> str:
        return f"Graph {self.status} (#{self.code}/{self.subcode}) {self.message}"

    @property
    def transient(self) -> bool:
        return self.status in RETRY_STATUSES or self.status == 0 or self.code in TRANSIENT_CODES


def base_url() -> str:
    return f"{settings.GRAPH_API_BASE_URL.rstrip('/')}/{settings.GRAPH_API_VERSION}"


def _error_of(response: requests.Response) -> GraphError:
    try:
        body = response.json().get("error") or {}
    except ValueError:
        body = {}
    return GraphError(
        status=response.status_code,
        code=int(body.get("code") or 0),
        subcode=int(body.get("error_subcode") or 0),
        message=str(body.get("message") or response.reason or "")[:300],
    )


def call(
    method: str,
    path: str,
    *,
    token: str,
    json: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One Graph call (``path`` after the version, e.g. ``/123/messages``); its JSON answer,
    or ``GraphError``."""
    url = f"{base_url()}/{path.lstrip('/')}"
    try:
        response = session().request(
            method,
            url,
            headers={"Authorization": f"Bearer {token}"},
            json=json,
            data=data,
            files=files,
            params=params,
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        # The exception text names the URL (no token in it) and the cause.
        raise GraphError(status=0, code=0, subcode=0, message=type(exc).__name__) from None
    if response.status_code >= 400:
        raise _error_of(response)
    try:
        answer = response.json()
    except ValueError:
        raise GraphError(response.status_code, 0, 0, "respuesta no JSON") from None
    return answer if isinstance(answer, dict) else {"data": answer}


def media_host_allowed(url: str) -> bool:
    """Only the Graph host (same scheme) or one of Meta's media hosts over https."""
    parts = urlsplit(url)
    graph = urlsplit(settings.GRAPH_API_BASE_URL)
    host = (parts.hostname or "").lower()
    if parts.scheme == graph.scheme and host == (graph.hostname or "").lower():
        return parts.port == graph.port
    if parts.scheme != "https":
        return False
    for allowed in settings.META_MEDIA_HOSTS:
        allowed = allowed.lower()
        if (allowed.startswith(".") and host.endswith(allowed)) or host == allowed:
            return True
    return False


@dataclass(frozen=True)
class Download:
    content: bytes
    content_type: str


class MediaRefused(Exception):
    """A download we will not do (host not allowed, too big): the reason is for the agent."""


def download(url: str, *, token: str | None, max_bytes: int) -> Download:
    """The bytes at ``url`` (an allowed host only), at most ``max_bytes``."""
    if not media_host_allowed(url):
        raise MediaRefused(f"host no permitido: {urlsplit(url).hostname}")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with session().get(
            url, headers=headers, timeout=TIMEOUT, stream=True, allow_redirects=False
        ) as response:
            if response.status_code >= 400:
                raise _error_of(response)
            if response.status_code >= 300:
                raise MediaRefused("redirección no permitida")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise MediaRefused(f"archivo de {declared} bytes, el límite es {max_bytes}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise MediaRefused(f"archivo de más de {max_bytes} bytes")
                chunks.append(chunk)
            kind = response.headers.get("Content-Type", "application/octet-stream")
            return Download(b"".join(chunks), kind.split(";")[0].strip())
    except requests.RequestException:
        raise GraphError(status=0, code=0, subcode=0, message="descarga interrumpida") from None
