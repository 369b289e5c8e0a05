"""One HTTP request through the real ASGI stack (helpdesk.asgi.application), from a chosen peer
address: what daphne hands the application, forwarded headers included."""

from __future__ import annotations

from dataclasses import dataclass

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from helpdesk.asgi import application


@dataclass
class AsgiResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def asgi_request(
    method: str,
    path: str,
    *,
    peer: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    host: str = "127.0.0.1",
) -> AsgiResponse:
    raw_headers = [(b"host", host.encode())] + [
        (k.lower().encode(), v.encode()) for k, v in headers or []
    ]
    if body:
        raw_headers.append((b"content-type", b"application/x-www-form-urlencoded"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": (peer, 40000),
        "server": (host, 80),
    }

    async def run() -> AsgiResponse:
        comm = ApplicationCommunicator(application, scope)
        await comm.send_input({"type": "http.request", "body": body, "more_body": False})
        start = await comm.receive_output(timeout=20)
        chunks = []
        while True:
            part = await comm.receive_output(timeout=20)
            chunks.append(part.get("body", b""))
            if not part.get("more_body"):
                break
        await comm.wait(timeout=5)
        return AsgiResponse(
            status=start["status"],
            headers={k.decode().lower(): v.decode() for k, v in start["headers"]},
            body=b"".join(chunks),
        )

    return async_to_sync(run)()
