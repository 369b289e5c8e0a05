"""Every part of a MIME message in its place: the bodies in order, the files, nothing lost.

Contract: :func:`read_parts` walks the parsed message (bounded in depth and count) and returns
its text, its HTML and its files. Every inline text part of a ``multipart/mixed`` is kept in
order (text, image, text: RFC 2046 §5.1.3); ``multipart/alternative`` contributes one reading;
a multipart without a boundary is read as text (Python's parser leaves it a string,
``NoBoundaryInMultipartDefect``); an attached ``message/rfc822`` is kept byte-exact as its
``.eml`` (cut from the raw bytes, not re-serialised) and its own files are listed after it;
a TNEF ``winmail.dat`` (MS-OXTNEF) is unpacked into its files; file names lose NUL bytes,
control characters and paths. The cost is one pass over the parts.
"""

from __future__ import annotations

import base64
import html as html_lib
import itertools
import quopri
import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from channels_conn.email.decode import clean_text, decode_bytes, decode_header_value

MAX_DEPTH = 20  # MIME parts nested deeper than this are ignored (a "MIME bomb")
MAX_PARTS = 500  # and so are parts beyond this count
_SKIPPED = {"message/delivery-status", "text/rfc822-headers", "message/disposition-notification"}


@dataclass(frozen=True)
class ParsedFile:
    name: str
    content: bytes
    content_type: str
    content_id: str = ""


@dataclass
class Parts:
    texts: list[tuple[str, str]] = field(default_factory=list)  # (plain, html) in order
    files: list[ParsedFile] = field(default_factory=list)
    count: int = 0

    @property
    def text(self) -> str:
        return "\n\n".join(
            (plain or html_to_text(html)).strip("\n") for plain, html in self.texts
        ).strip("\n")

    @property
    def html(self) -> str:
        if not any(html for _plain, html in self.texts):
            return ""
        return "\n".join(html or text_to_html(plain) for plain, html in self.texts)


def html_to_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>|</h\d>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = "\n".join(line.strip() for line in html_lib.unescape(text).splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def text_to_html(text: str) -> str:
    return "<p>" + html_lib.escape(text).replace("\n", "<br>") + "</p>" if text.strip() else ""


def part_text(part: Message) -> str:
    """The text of a leaf part, decoded honestly (see ``decode.decode_bytes``)."""
    try:
        raw = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: fall back to the undecoded payload
        raw = None
    if not isinstance(raw, bytes):
        payload = part.get_payload()
        if not isinstance(payload, str):
            return ""
        raw = payload.encode("ascii", "surrogateescape")
    try:
        charset = part.get_content_charset()
    except Exception:  # a malformed Content-Type parameter
        charset = None
    return clean_text(decode_bytes(raw, charset).replace("\r\n", "\n"))


def safe_name(value: str, fallback: str) -> str:
    """A file name a person can see and a disk can take: no NUL, controls or folders."""
    name = clean_text(decode_header_value(value or "")).replace("\x00", "")
    name = re.split(r"[\\/]", name)[-1].strip().lstrip(".").strip()
    name = re.sub(r"[<>:\"|?*]", "_", name)
    return name[:200] or fallback


def _filename(part: Message) -> str:
    try:
        return str(part.get_filename() or "")
    except Exception:  # RFC 2231 parameters broken beyond repair
        return ""


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:  # a malformed Content-Disposition
        return ""


def _content_id(part: Message) -> str:
    value = str(part.get("Content-ID", "") or "").strip()
    return value.strip("<> ")[:255]


def _file(part: Message, parts: Parts) -> ParsedFile:
    subtype = re.sub(r"[^a-z0-9]", "", part.get_content_subtype().lower())[:10] or "bin"
    fallback = f"adjunto-{len(parts.files) + 1}.{subtype}"
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # undecodable transfer encoding: keep the bytes as they came
        payload = str(part.get_payload()).encode("ascii", "surrogateescape")
    return ParsedFile(
        name=safe_name(_filename(part), fallback),
        content=payload if isinstance(payload, bytes) else b"",
        content_type=part.get_content_type()[:120],
        content_id=_content_id(part),
    )


# --- raw bytes of attached messages ------------------------------------------------------------


def _raw_body(entity: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = entity.find(sep)
        if at >= 0:
            return entity[at + len(sep) :]
    return b""


def raw_children(entity: bytes, boundary: str) -> list[bytes]:
    """The raw entities of a multipart's children, as RFC 2046 §5.1.1 delimits them."""
    body = _raw_body(entity)
    delim = re.escape(b"--" + boundary.encode("latin-1", "replace"))
    marks = list(re.finditer(rb"(?m)^" + delim + rb"(--)?[ \t]*\r?$", body))
    children: list[bytes] = []
    for here, nxt in itertools.pairwise(marks):
        if here.group(1):
            break
        start = here.end() + (2 if body[here.end() : here.end() + 2] == b"\r\n" else 1)
        end = nxt.start()
        chunk = body[start:end]
        chunk = (
            chunk[:-2]
            if chunk.endswith(b"\r\n")
            else chunk[:-1]
            if chunk.endswith(b"\n")
            else chunk
        )
        children.append(chunk)
    return children


def _inner_bytes(part: Message, entity: bytes | None) -> bytes:
    """The attached message exactly as it came (decoded from base64/QP when so encoded)."""
    if entity is not None:
        body = _raw_body(entity)
        cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if cte == "base64":
            return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", body) + b"==", validate=False)
        if cte == "quoted-printable":
            return quopri.decodestring(body)
        if body:
            return body
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    return inner.as_bytes() if isinstance(inner, Message) else b""


# --- walking ---------------------------------------------------------------------------------


def read_parts(msg: Message, raw: bytes | None = None) -> Parts:
    parts = Parts()
    _visit(msg, raw, 0, parts, top=True)
    return parts


def _visit(part: Message, entity: bytes | None, depth: int, parts: Parts, *, top: bool) -> None:
    parts.count += 1
    if parts.count > MAX_PARTS or depth > MAX_DEPTH:
        return
    ctype = part.get_content_type()
    maintype = part.get_content_maintype()
    payload = part.get_payload()
    if maintype == "multipart":
        if not isinstance(payload, list):  # no boundary: the body is text after all
            parts.texts.append((part_text(part), ""))
        elif part.get_content_subtype() == "alternative":
            _alternative(part, payload, entity, depth, parts)
        else:
            _children(part, payload, entity, depth, parts)
        return
    if ctype == "message/rfc822" and not top:
        _attached_message(part, entity, depth, parts)
        return
    if ctype in _SKIPPED:
        return
    if _is_tnef(part):
        _tnef(part, parts)
        return
    disposition = _disposition(part)
    if ctype in {"text/plain", "text/html"} and disposition != "attachment" and not _filename(part):
        text = part_text(part)
        parts.texts.append((text, "") if ctype == "text/plain" else ("", text))
        return
    if top and maintype == "text":
        parts.texts.append((part_text(part), ""))  # text/enriched, text/calendar as the body
        return
    parts.files.append(_file(part, parts))


def _children(
    part: Message, payload: list[Any], entity: bytes | None, depth: int, parts: Parts
) -> None:
    raws = raw_children(entity, part.get_boundary() or "") if entity is not None else []
    if len(raws) != len(payload):
        raws = []
    for index, child in enumerate(payload):
        if isinstance(child, Message):
            _visit(child, raws[index] if raws else None, depth + 1, parts, top=False)


def _alternative(
    part: Message, payload: list[Any], entity: bytes | None, depth: int, parts: Parts
) -> None:
    """One reading: the plain and the HTML alternatives side by side; nested parts (related
    images, a mixed HTML) contribute their files."""
    plain = html = ""
    for child in payload:
        if not isinstance(child, Message):
            continue
        ctype = child.get_content_type()
        if ctype == "text/plain" and not plain:
            plain = part_text(child)
        elif ctype == "text/html" and not html:
            html = part_text(child)
        elif child.get_content_maintype() == "multipart":
            inner = Parts(count=parts.count)
            _visit(child, None, depth + 1, inner, top=False)
            parts.count = inner.count
            parts.files.extend(inner.files)
            html = html or inner.html
            plain = plain or (inner.text if not inner.html else "")
    if plain or html:
        parts.texts.append((plain, html))


def _attached_message(part: Message, entity: bytes | None, depth: int, parts: Parts) -> None:
    content = _inner_bytes(part, entity)
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    subject = (
        decode_header_value(str(inner.get("Subject", ""))) if isinstance(inner, Message) else ""
    )
    fallback = f"{subject[:80] or 'mensaje-' + str(len(parts.files) + 1)}.eml"
    name = safe_name(_filename(part), safe_name(fallback, "mensaje.eml"))
    if not name.lower().endswith(".eml"):
        name += ".eml"
    parts.files.append(ParsedFile(name=name, content=content, content_type="message/rfc822"))
    if isinstance(inner, Message):
        own = Parts(count=parts.count)
        _visit(inner, content, depth + 1, own, top=True)
        parts.count = own.count
        parts.files.extend(own.files)


def _is_tnef(part: Message) -> bool:
    return part.get_content_type() == "application/ms-tnef" or _filename(part).lower() in {
        "winmail.dat",
        "win.dat",
    }


def _tnef(part: Message, parts: Parts) -> None:
    """Unpack winmail.dat into its files; the original is kept when it cannot be read."""
    from tnefparse import TNEF

    data = part.get_payload(decode=True)
    try:
        tnef = TNEF(data if isinstance(data, bytes) else b"", do_checksum=True)
        files = [
            ParsedFile(
                name=safe_name(_tnef_name(att), f"adjunto-{n}.bin"),
                content=bytes(att.data or b""),
                content_type="application/octet-stream",
            )
            for n, att in enumerate(tnef.attachments, start=1)
        ]
    except Exception:  # not TNEF after all, or truncated: keep winmail.dat as it came
        files = []
    if not files:
        parts.files.append(_file(part, parts))
        return
    parts.files.extend(files)


def _tnef_name(att: Any) -> str:
    """The file's name; tnefparse reads titles as UTF-8, Outlook writes its ANSI code page."""
    try:
        return str(att.long_filename() or "")
    except UnicodeDecodeError:
        raw = getattr(att, "_name", b"")
        return decode_bytes(raw, "cp1252").strip("\x00") if isinstance(raw, bytes) else ""
