"""Building blocks of the corpus: one mail as bytes, exactly as a client would send it."""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field

SHOP = "soporte@tienda.test"
SEED_ID = "seed@cliente.test"  # the customer's first mail: ticket «T»
OURS_ID = "ours-1@tienda.test"  # our reply on T, as sent
TICKET = b"{TICKET}"  # replaced by T's number when the mail is appended


@dataclass(frozen=True)
class Expect:
    """What an agent must see once the mail has been polled (see test_email_corpus)."""

    ticket: str = "new"  # "new": its own ticket · "seed": on T · "none": no message at all
    status: str = "processed"  # the stored InboundEmail's status
    automatic: bool = False  # shown muted (a robot wrote it)
    no_autoreply: bool = False  # a ticket, but marked so no automatic answer goes out
    shown: tuple[str, ...] = ()  # in what the agent reads first
    hidden: tuple[str, ...] = ()  # kept, but folded behind «mostrar texto citado»
    text: tuple[str, ...] = ()  # in the stored text (search finds it)
    subject: str | None = None  # the new ticket's subject
    customer: str | None = None  # the ticket's customer address
    customer_name: str | None = None
    files: tuple[str, ...] = ()  # attachment names on the message
    no_files: bool = False
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    participants: tuple[str, ...] | None = None
    reply_failed: str | None = None  # our reply on T marked failed with this in the reason
    messages: int | None = None  # inbound messages carrying this Message-ID (dedup)
    reopened: bool = False


@dataclass(frozen=True)
class Case:
    name: str
    cite: str  # the public bug report or RFC this shape comes from
    mails: tuple[bytes, ...]
    expect: Expect
    msgid: str = ""
    close_seed: bool = False  # T closed before the mail arrives
    reopen_hours: int = 0  # the tenant's reopen window
    aliases: tuple[str, ...] = ()  # other addresses of the mailbox (account settings)


def mail(
    msgid: str,
    body: str | bytes = "Hola, necesito ayuda.",
    *,
    subject: str = "Consulta",
    sender: str = "Ana Pérez <ana@cliente.test>",
    to: str = SHOP,
    headers: str = "",
    ctype: str = "text/plain; charset=utf-8",
    cte: str = "",
) -> bytes:
    """A single-part mail; ``headers`` are extra header lines, each ending in CRLF."""
    payload = body.encode() if isinstance(body, str) else body
    head = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        + (f"Message-ID: <{msgid}>\r\n" if msgid else "")
        + "Date: Tue, 01 Dec 2026 10:00:00 -0300\r\nMIME-Version: 1.0\r\n"
        + headers
        + f"Content-Type: {ctype}\r\n"
        + (f"Content-Transfer-Encoding: {cte}\r\n" if cte else "")
        + "\r\n"
    )
    return (
        head.encode("utf-8", "surrogateescape")
        + payload.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")
        + b"\r\n"
    )


def multipart(
    msgid: str,
    parts: list[bytes],
    *,
    subtype: str = "mixed",
    subject: str = "Consulta",
    sender: str = "Ana Pérez <ana@cliente.test>",
    headers: str = "",
    boundary: str = "BOUNDARY-1",
) -> bytes:
    head = (
        f"From: {sender}\r\nTo: {SHOP}\r\nSubject: {subject}\r\nMessage-ID: <{msgid}>\r\n"
        f"Date: Tue, 01 Dec 2026 10:00:00 -0300\r\nMIME-Version: 1.0\r\n{headers}"
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'
    ).encode()
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    return head + body + b"--" + boundary.encode() + b"--\r\n"


def part(content_type: str, body: str | bytes, *, headers: str = "", b64: bool = False) -> bytes:
    raw = body.encode() if isinstance(body, str) else body
    if b64:
        raw = base64.encodebytes(raw).replace(b"\n", b"\r\n")
        headers += "Content-Transfer-Encoding: base64\r\n"
    return f"Content-Type: {content_type}\r\n{headers}\r\n".encode() + raw


def tnef(files: list[tuple[str, bytes]]) -> bytes:
    """A minimal winmail.dat (MS-OXTNEF §2.1): version, codepage, then per file its
    rendering data, title and bytes; each attribute with its checksum."""

    def attr(level: int, name: int, kind: int, data: bytes) -> bytes:
        head = struct.pack("<BHHI", level, name, kind, len(data))
        return head + data + struct.pack("<H", sum(data) & 0xFFFF)

    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += attr(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))
    out += attr(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))
    for name, data in files:
        out += attr(2, 0x9002, 0x0006, struct.pack("<HIIHHI", 1, 0xFFFFFFFF, 0, 0, 0, 0))
        out += attr(2, 0x8010, 0x0001, name.encode("cp1252") + b"\x00")
        out += attr(2, 0x800F, 0x0006, data)
    return out
