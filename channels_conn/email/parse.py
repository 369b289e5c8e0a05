"""Turn raw RFC 5322 bytes into a :class:`ParsedEmail`. Never raises on bad input.

Contract: :func:`parse_email` accepts any bytes (0 bytes, header-only, wrong charsets, absurd
nesting) and returns a result; what cannot be decoded is recovered as best it can be
(utf-8, then cp1252) rather than refused, because a lost customer mail is worse than an ugly one.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message

from tickets.sanitize import sanitize_html

MAX_DEPTH = 20  # MIME parts nested deeper than this are ignored (a "MIME bomb")
MAX_PARTS = 500  # and so are parts beyond this count

_QUOTE_HEADER = re.compile(
    r"^(On .+ wrote:|El .+ escribió:|-{2,} ?(Original Message|Mensaje original) ?-{2,}|"
    r"From: .+|De: .+)\s*$",
    re.IGNORECASE,
)
_SUBJECT_PREFIX = re.compile(r"^\s*((re|rv|fw|fwd|aw|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_TICKET_TOKEN = re.compile(r"\[#(\d{1,12})\]")
_MSGID = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class ParsedFile:
    name: str
    content: bytes
    content_type: str
    content_id: str = ""


@dataclass(frozen=True)
class ParsedEmail:
    """What the helpdesk needs of one email. Message ids are bare (no angle brackets)."""

    message_id: str = ""
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    date: datetime.datetime | None = None
    text: str = ""
    preview_text: str = ""  # text without the quoted history
    html: str = ""  # sanitized
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    attachments: tuple[ParsedFile, ...] = ()
    auto_submitted: bool = False
    is_bounce: bool = False
    bounce_original_id: str = ""
    bounce_reason: str = ""
    ticket_number: int | None = None
    defects: tuple[str, ...] = field(default_factory=tuple)


# --- headers ---------------------------------------------------------------------------------


def _header(msg: Message, name: str) -> str:
    """A header as text; a malformed header never raises (its raw value is used instead)."""
    try:
        value = msg.get(name)
    except Exception:  # malformed headers come in every shape
        value = None
        raw = [v for k, v in msg.raw_items() if k.lower() == name.lower()]  # type: ignore[attr-defined]
        if raw:
            value = raw[0]
    if value is None:
        return ""
    return " ".join(str(value).split())


def message_ids(value: str) -> tuple[str, ...]:
    """The ids in a Message-ID / In-Reply-To / References header, without angle brackets."""
    found = _MSGID.findall(value)
    if not found and value.strip():
        found = [value.strip().strip("<>")]
    return tuple(found)


def _address(msg: Message) -> tuple[str, str]:
    name, addr = email.utils.parseaddr(_header(msg, "From"))
    return name.strip(), addr.strip().lower()


def _date(msg: Message) -> datetime.datetime | None:
    value = _header(msg, "Date")
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def normalize_subject(subject: str) -> str:
    """The subject without Re:/Fwd:/RV: prefixes (Spanish clients add RV and RE)."""
    return _SUBJECT_PREFIX.sub("", subject).strip()


def ticket_number_in(subject: str) -> int | None:
    match = _TICKET_TOKEN.search(subject)
    return int(match.group(1)) if match else None


def is_auto_submitted(msg: Message) -> bool:
    """True for mail no robot should answer: auto-replies, lists, bulk, bounces (loop guard)."""
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if _header(msg, "Precedence").lower() in {"bulk", "list", "junk"}:
        return True
    if any(_header(msg, h) for h in ("X-Autoreply", "X-Autorespond", "List-Unsubscribe", "X-Loop")):
        return True
    if _header(msg, "X-Auto-Response-Suppress").lower() in {"all"}:
        return True
    if _header(msg, "Return-Path").replace(" ", "") == "<>":
        return True
    return _is_report(msg)


def _is_report(msg: Message) -> bool:
    return (
        msg.get_content_type() == "multipart/report"
        and str(msg.get_param("report-type", "")).lower() == "delivery-status"
    )


# --- bodies ----------------------------------------------------------------------------------


def _walk(msg: Message, *, into_messages: bool = True) -> list[tuple[Message, int]]:
    """Every part with its depth, bounded in depth and count (no recursion limit to hit).
    ``into_messages=False`` does not open attached messages (a forward is one file)."""
    out: list[tuple[Message, int]] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack and len(out) < MAX_PARTS:
        part, depth = stack.pop()
        out.append((part, depth))
        if depth >= MAX_DEPTH or not part.is_multipart():
            continue
        if not into_messages and part.get_content_maintype() == "message" and depth > 0:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(
                (child, depth + 1) for child in reversed(payload) if isinstance(child, Message)
            )
    return out


def decode_text(part: Message) -> str:
    """The text of a part: its declared charset, else utf-8, else cp1252 (never raises)."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, KeyError, AssertionError, ValueError):
        pass
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return ""
    for charset in (part.get_content_charset() or "", "utf-8", "cp1252"):
        if not charset:
            continue
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeError):
            continue
    return raw.decode("latin-1")


def _is_attachment(part: Message) -> bool:
    if part.is_multipart() or part.get_content_type() in {"message/rfc822"}:
        return False
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment" or part.get_filename():
        return True
    if part.get("Content-ID") and part.get_content_maintype() == "image":
        return True
    return part.get_content_maintype() not in {"text"}


def _file(part: Message, index: int) -> ParsedFile:
    name = part.get_filename() or ""
    if not name:
        subtype = part.get_content_subtype() or "bin"
        name = f"adjunto-{index}.{subtype}"
    payload = part.get_payload(decode=True)
    content = payload if isinstance(payload, bytes) else b""
    cid = message_ids(str(part.get("Content-ID", "")))
    return ParsedFile(
        name=" ".join(str(name).split()),
        content=content,
        content_type=part.get_content_type(),
        content_id=cid[0] if cid else "",
    )


def _attached_message(part: Message, index: int) -> ParsedFile:
    """An attached (forwarded, bounced) message kept whole as an .eml file."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    content = inner.as_bytes() if isinstance(inner, Message) else b""
    name = part.get_filename() or f"mensaje-{index}.eml"
    return ParsedFile(name=name, content=content, content_type="message/rfc822")


def strip_quoted(text: str) -> str:
    """The new part of a reply: up to the first quote header or the first run of ``>`` lines."""
    kept: list[str] = []
    for line in text.splitlines():
        if _QUOTE_HEADER.match(line.strip()) or line.lstrip().startswith(">"):
            break
        kept.append(line)
    result = "\n".join(kept).strip()
    return result or text.strip()


def _html_to_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style).*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    import html as html_lib

    return re.sub(r"\n{3,}", "\n\n", html_lib.unescape(text)).strip()


def _bodies_and_files(msg: Message) -> tuple[str, str, list[ParsedFile]]:
    text = html = ""
    files: list[ParsedFile] = []
    for part, depth in _walk(msg, into_messages=False):
        if part.get_content_type() == "message/rfc822" and depth > 0:
            files.append(_attached_message(part, len(files) + 1))
            continue
        if part.is_multipart() or part.get_content_type() in {
            "message/rfc822",
            "message/delivery-status",
            "text/rfc822-headers",
        }:
            continue
        ctype = part.get_content_type()
        inline_text = ctype in {"text/plain", "text/html"} and not (
            (part.get_content_disposition() or "") == "attachment" or part.get_filename()
        )
        if inline_text and ctype == "text/plain" and not text:
            text = decode_text(part)
        elif inline_text and ctype == "text/html" and not html:
            html = decode_text(part)
        elif inline_text:
            continue
        elif _is_attachment(part) or ctype.startswith("text/"):
            files.append(_file(part, len(files) + 1))
    return text, html, files


# --- bounces ---------------------------------------------------------------------------------


def _bounce_details(msg: Message) -> tuple[str, str]:
    """(original Message-ID, reason) of a delivery-status report; ("", "") when not found."""
    original = reason = ""
    for part, _depth in _walk(msg):
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            reason = reason or _dsn_reason(part)
        elif ctype == "message/rfc822" and not original:
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                ids = message_ids(_header(inner, "Message-ID"))
                original = ids[0] if ids else ""
        elif ctype == "text/rfc822-headers" and not original:
            headers = email.message_from_string(decode_text(part), policy=email.policy.default)
            ids = message_ids(_header(headers, "Message-ID"))
            original = ids[0] if ids else ""
    return original, reason


def _dsn_reason(part: Message) -> str:
    """The Diagnostic-Code (or Status) of a message/delivery-status part."""
    chunks: list[str] = []
    payload = part.get_payload()
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                chunks.extend(f"{k}: {v}" for k, v in block.items())
    else:
        chunks = decode_text(part).splitlines()
    for key in ("diagnostic-code", "status"):
        for line in chunks:
            if line.lower().startswith(key + ":"):
                return line.split(":", 1)[1].strip()
    return ""


# --- entry point -----------------------------------------------------------------------------


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse ``raw``; see the module docstring for the contract."""
    msg = email.message_from_bytes(raw or b"", policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    subject = _header(msg, "Subject")
    name, addr = _address(msg)
    text, html, files = _bodies_and_files(msg)
    clean_html = sanitize_html(html) if html else ""
    if not text and html:
        text = _html_to_text(html)
    ids = message_ids(_header(msg, "Message-ID"))
    report = _is_report(msg)
    original, reason = _bounce_details(msg) if report else ("", "")
    return ParsedEmail(
        message_id=ids[0] if ids else "",
        subject=subject,
        from_address=addr,
        from_name=name,
        date=_date(msg),
        text=text,
        preview_text=strip_quoted(text),
        html=clean_html,
        in_reply_to=next(iter(message_ids(_header(msg, "In-Reply-To"))), ""),
        references=message_ids(_header(msg, "References")),
        attachments=tuple(files),
        auto_submitted=is_auto_submitted(msg),
        is_bounce=report,
        bounce_original_id=original,
        bounce_reason=reason,
        ticket_number=ticket_number_in(subject),
        defects=tuple(str(d) for d in msg.defects),
    )
