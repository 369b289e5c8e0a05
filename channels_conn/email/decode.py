"""Bytes and headers to text without lying about them.

Contract: :func:`decode_bytes` never raises and never returns U+FFFD for bytes that some
plausible charset reads: the declared charset strictly first (except that bytes which are valid
UTF-8 win over a single-byte label, because «UTF-8 labelled Latin-1» is the common lie and the
reverse almost never validates by chance), then the charset ``charset_normalizer`` finds likely,
then cp1252. A byte-order mark is dropped. :func:`decode_header_value` decodes RFC 2047
encoded-words as far as they can be decoded (bad padding, a multibyte character split across two
words, a wrong charset label, raw 8-bit bytes) and never shows ``=?utf-8?B?…?=`` to a person.
:func:`split_address` keeps the right address when a display name carries an unquoted comma.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email.utils
import quopri
import re

import charset_normalizer

# Labels whose strict decode succeeds on almost any bytes: a valid UTF-8 reading beats them.
_PERMISSIVE = {
    "latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1", "cp1252", "windows-1252",
    "iso-8859-15", "iso8859-15", "us-ascii", "ascii", "cp850", "iso-8859-2", "windows-1250",
}  # fmt: skip
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_ANGLE = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _codec(label: str) -> str | None:
    label = (label or "").strip().strip('"').lower()
    if label in {"", "unknown", "unknown-8bit", "x-unknown", "default", "8bit"}:
        return None
    label = {"utf8": "utf-8", "ks_c_5601-1987": "cp949", "gb2312": "gb18030"}.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _is_ascii(raw: bytes) -> bool:
    return raw.isascii()


def decode_bytes(raw: bytes, declared: str | None = None) -> str:
    """``raw`` as text (see the module docstring)."""
    if not raw:
        return ""
    if raw.startswith(codecs.BOM_UTF8):
        return _strict(raw[3:], "utf-8") or decode_bytes(raw[3:], declared)
    if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        text = _strict(raw, "utf-16")
        if text is not None:
            return text
    codec = _codec(declared or "")
    if _is_ascii(raw) and (codec is None or codec in _PERMISSIVE or codec == "utf-8"):
        return raw.decode("ascii")
    utf8 = _strict(raw, "utf-8")
    if codec is not None and (codec not in _PERMISSIVE or utf8 is None):
        text = _strict(raw, codec)
        if text is not None and (codec not in _PERMISSIVE or not _looks_wrong(text)):
            return text.lstrip("\ufeff")
    if utf8 is not None:
        return utf8.lstrip("\ufeff")
    return _likely(raw)


def _likely(raw: bytes) -> str:
    """Bytes no declared charset reads. Short Latin-script mail is cp1252 far more often than
    anything a statistical guess on a few bytes proposes; longer text is worth the guess."""
    cp1252 = _strict(raw, "cp1252")
    if cp1252 is not None and (len(raw) < 400 or not _looks_wrong(cp1252)):
        return cp1252.lstrip("\ufeff")
    best = charset_normalizer.from_bytes(raw).best()
    if best is not None and best.encoding:
        text = _strict(raw, best.encoding)
        if text is not None:
            return text.lstrip("\ufeff")
    return cp1252 if cp1252 is not None else raw.decode("latin-1")


def _looks_wrong(text: str) -> bool:
    """C1 control characters in a single-byte reading: the bytes were not that charset."""
    return any("\x80" <= ch <= "\x9f" for ch in text)


def _strict(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except (UnicodeError, LookupError):
        return None


def clean_text(text: str) -> str:
    """Without NUL and other control characters (PostgreSQL refuses NUL in text)."""
    return _CONTROL.sub("", text)


# --- headers ---------------------------------------------------------------------------------


def _word_bytes(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            return base64.b64decode(cleaned[: len(cleaned) // 4 * 4] or "")
    return quopri.decodestring(payload.replace("_", " ").encode("latin-1", "replace"), header=False)


def decode_header_value(value: str) -> str:
    """A raw header value (8-bit bytes arrive as surrogate escapes) as readable text."""
    if not value:
        return ""
    try:
        raw8 = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        raw8 = b""
    if raw8 and not raw8.isascii():
        value = decode_bytes(raw8)
    if "=?" not in value:
        return clean_text(" ".join(value.split()))
    out: list[str] = []
    pending: bytes = b""
    pending_charset = ""
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        charset, encoding, payload = match.group(1).split("*", 1)[0], match.group(2), match.group(3)
        # RFC 2047 §6.2: white space between adjacent encoded-words is not displayed. Joining
        # the bytes first repairs a multibyte character split across two words.
        if pending and (between.strip() or charset.lower() != pending_charset):
            out.append(decode_bytes(pending, pending_charset))
            pending = b""
        if between.strip() or (not out and not pending):
            out.append(between)
        pending += _word_bytes(encoding, payload)
        pending_charset = charset.lower()
        pos = match.end()
    if pending:
        out.append(decode_bytes(pending, pending_charset))
    out.append(value[pos:])
    return clean_text(" ".join("".join(out).split()))


def split_address(value: str) -> tuple[str, str]:
    """(display name, lower-case address) of a From/Reply-To value, comma in the name or not."""
    value = " ".join(value.split())
    angle = _ANGLE.findall(value)
    if angle:
        addr = angle[-1]
        name = value[: value.rfind("<")].strip().strip('"').strip()
        return name.replace('\\"', '"'), addr.strip().lower()
    name, addr = email.utils.parseaddr(value)
    if "@" not in addr:
        found = re.search(r"[^\s<>,;:\"]+@[^\s<>,;:\"]+", value)
        addr = found.group(0) if found else ""
    return name.strip(), addr.strip().lower()


def address_list(value: str) -> list[tuple[str, str]]:
    """Every (name, address) of a To/Cc value; a display name with a comma stays one person."""
    found: list[tuple[str, str]] = []
    for name, addr in email.utils.getaddresses([value]):
        if "@" in addr:
            found.append((name.strip(), addr.strip().lower()))
    # getaddresses splits «Pérez, Juan <j@x>» into a nameless «Pérez» and Juan: the angle
    # addresses are the ground truth, so any address it missed is added.
    known = {a for _n, a in found}
    for addr in _ANGLE.findall(value):
        if addr.lower() not in known:
            found.append(("", addr.lower()))
    return [(n, a) for n, a in found if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", a)]
