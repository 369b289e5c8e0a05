"""Turn raw RFC 5322 bytes into a :class:`ParsedEmail`. Never raises on bad input.

Contract: :func:`parse_email` accepts any bytes (0 bytes, header-only, wrong charsets, absurd
nesting) and returns a result; what cannot be decoded is recovered as best it can be
(``decode``), because a lost customer mail is worse than an ugly one. The pieces live in their
own modules: ``decode`` (charsets, encoded-words, addresses), ``mime`` (bodies and files),
``quotes`` (what the customer wrote versus the history), ``classify`` (person, list, robot,
bounce).
"""

from __future__ import annotations

import datetime
import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message

from channels_conn.email import classify
from channels_conn.email.decode import address_list, decode_header_value, split_address
from channels_conn.email.mime import (
    MAX_DEPTH,
    MAX_PARTS,
    ParsedFile,
    html_to_text,
    read_parts,
    text_to_html,
)
from channels_conn.email.quotes import split_html, split_text
from tickets.sanitize import sanitize_html

__all__ = ["MAX_DEPTH", "MAX_PARTS", "ParsedEmail", "ParsedFile", "parse_email"]

_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|rv|fw|fwd|aw|tr|res|enc)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
_TICKET_TOKEN = re.compile(r"\[#(\d{1,12})\]")
_MSGID = re.compile(r"<([^<>\s]+)>")
QUOTED_OPEN = '<details class="quoted">'


@dataclass(frozen=True)
class ParsedEmail:
    """What the helpdesk needs of one email. Message ids are bare (no angle brackets)."""

    message_id: str = ""
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    reply_to_address: str = ""
    reply_to_name: str = ""
    to: tuple[tuple[str, str], ...] = ()
    cc: tuple[tuple[str, str], ...] = ()
    date: datetime.datetime | None = None
    text: str = ""  # every text part, quoted history included (search finds it all)
    preview_text: str = ""  # what the customer wrote, without the quoted history
    html: str = ""  # sanitized; the quoted history inside <details class="quoted">
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    attachments: tuple[ParsedFile, ...] = ()
    kind: str = classify.PERSON
    bounce_original_id: str = ""
    bounce_reason: str = ""
    ticket_number: int | None = None
    content_hash: str = ""
    defects: tuple[str, ...] = field(default_factory=tuple)

    @property
    def auto_submitted(self) -> bool:
        """No robot answers it: lists and bulk too, not only robots (the loop guard)."""
        return self.kind != classify.PERSON

    @property
    def is_automatic(self) -> bool:
        """A robot wrote it (auto-reply, DSN, bounce): it never opens a ticket."""
        return self.kind in {classify.AUTOMATIC, classify.BOUNCE}

    @property
    def is_bounce(self) -> bool:
        return self.kind == classify.BOUNCE


def _raw_header(msg: Message, name: str) -> str:
    """A header's raw value (encoded-words still encoded); "" when absent."""
    for key, value in msg.raw_items():  # type: ignore[attr-defined]
        if key.lower() == name.lower():
            return str(value)
    return ""


def header(msg: Message, name: str) -> str:
    return decode_header_value(_raw_header(msg, name))


def message_ids(value: str) -> tuple[str, ...]:
    """The ids in a Message-ID / In-Reply-To / References header, without angle brackets."""
    found = _MSGID.findall(value)
    if not found and value.strip():
        found = [value.strip().strip("<>")]
    return tuple(i[:255] for i in found)


def _date(msg: Message) -> datetime.datetime | None:
    value = header(msg, "Date")
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


def strip_quoted(text: str) -> str:
    """The new part of a reply (kept for callers of the old name)."""
    return split_text(text)[0].strip()


def content_hash(raw: bytes) -> str:
    """What makes two mails the same mail: sender, date, subject and body, not the transport
    headers (Received, Delivered-To, X-…) that differ between two copies of one message."""
    head, _sep, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    keep = []
    for line in re.split(rb"\n(?![ \t])", head):
        key = line.split(b":", 1)[0].strip().lower()
        if key in {b"from", b"date", b"subject", b"to", b"cc", b"content-type"}:
            keep.append(b" ".join(line.split()))
    return hashlib.sha256(b"\n".join(sorted(keep)) + b"\n\n" + body.rstrip()).hexdigest()


def _bodies(text: str, html: str, subject: str) -> tuple[str, str]:
    """(written text, displayed HTML): the quoted history folded into a <details>."""
    if html:
        written, quoted = split_html(html, subject=subject)
        shown = sanitize_html(written)
        if quoted:
            shown += QUOTED_OPEN + sanitize_html(quoted) + "</details>"
        return split_text(text, subject=subject)[0] if text else html_to_text(written), shown
    written, quoted = split_text(text, subject=subject)
    if not quoted:
        return written, ""
    return written, text_to_html(written) + QUOTED_OPEN + text_to_html(quoted) + "</details>"


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse ``raw``; see the module docstring for the contract."""
    raw = raw or b""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    subject = header(msg, "Subject")
    name, addr = split_address(header(msg, "From"))
    reply_name, reply_addr = split_address(header(msg, "Reply-To"))
    parts = read_parts(msg, raw)
    text, html = parts.text, parts.html
    if not text and html:
        text = html_to_text(html)
    written, shown = _bodies(text, html, subject)
    kind = classify.mail_kind(msg, from_address=addr, subject=subject)
    original = reason = ""
    if kind == classify.BOUNCE or classify.report_status(msg):  # delays name their mail too
        original, reason = classify.bounce_details(msg, text)
    return ParsedEmail(
        message_id=next(iter(message_ids(header(msg, "Message-ID"))), ""),
        subject=subject,
        from_address=addr,
        from_name=name,
        reply_to_address=reply_addr if reply_addr != addr else "",
        reply_to_name=reply_name,
        to=tuple(address_list(header(msg, "To"))),
        cc=tuple(address_list(header(msg, "Cc"))),
        date=_date(msg),
        text=text,
        preview_text=written.strip() or text.strip(),
        html=shown,
        in_reply_to=next(iter(message_ids(header(msg, "In-Reply-To"))), ""),
        references=message_ids(header(msg, "References")),
        attachments=tuple(parts.files),
        kind=kind,
        bounce_original_id=original,
        bounce_reason=reason,
        ticket_number=ticket_number_in(subject),
        content_hash=content_hash(raw),
        defects=tuple(str(d) for d in msg.defects),
    )
