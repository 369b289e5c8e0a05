"""How long a post is for X: the weighted length of twitter-text's configuration v3.

X does not count characters: most of Latin, Greek, Cyrillic and the common punctuation weigh 1,
everything else (CJK, most symbols) weighs 2, an emoji (a whole sequence: a flag, a family joined
with ZWJ, a skin tone) weighs 2, and every URL weighs 23 whatever its length (X shortens it to
t.co). The text is NFC-normalized first. A post may weigh at most 280.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WEIGHTED_LENGTH = 280
URL_LENGTH = 23
_SCALE = 100
_DEFAULT_WEIGHT = 200
# (first, last, weight): the code point ranges that weigh 1 (scaled by 100).
_RANGES = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))

# A URL as X recognises one: with a scheme, or a bare domain with a common top-level domain.
_TLDS = (
    "com|net|org|edu|gov|io|co|cl|ar|mx|pe|es|br|uy|bo|ec|py|ve|us|uk|de|fr|it|info|biz|app|"
    "dev|ly|me|tv|ai"
)
_URL = re.compile(
    r"(?:https?://[^\s<>\"]+)"
    rf"|(?:(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s<>\"]*)?)",
    re.IGNORECASE,
)
_TRAILING = ".,:;!?)]}'\"¡¿"  # punctuation right after a URL is not part of it

# One emoji: a flag (two regional indicators), a keycap, or pictographs joined by ZWJ, each
# with its optional variation selector and skin tone.
_PICTO = (
    "[\U0001f000-\U0001faff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\u2934\u2935\u3030\u303d"
    "\u3297\u3299]"
)
_MODS = "[\ufe0f\U0001f3fb-\U0001f3ff]*"
_EMOJI = re.compile(
    f"[\U0001f1e6-\U0001f1ff]{{2}}|[0-9#*]\ufe0f?\u20e3|{_PICTO}{_MODS}(?:\u200d{_PICTO}{_MODS})*"
)


def _char_weight(char: str) -> int:
    code = ord(char)
    for first, last, weight in _RANGES:
        if first <= code <= last:
            return weight
    return _DEFAULT_WEIGHT


def urls_in(text: str) -> list[str]:
    """The URLs X would shorten, in order."""
    return [m.group(0).rstrip(_TRAILING) for m in _URL.finditer(text)]


def weighted_length(text: str) -> int:
    """The length X shows for ``text`` (what the 280 limit is about)."""
    text = unicodedata.normalize("NFC", text or "")
    total = 0
    pos = 0
    spans: list[tuple[int, int, int]] = []  # (start, end, weight) of URLs and emoji
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        spans.append((m.start(), m.start() + len(url), URL_LENGTH * _SCALE))
    taken = [(s, e) for s, e, _w in spans]
    for m in _EMOJI.finditer(text):
        if not any(s <= m.start() < e for s, e in taken):
            spans.append((m.start(), m.end(), _DEFAULT_WEIGHT))
    for start, end, weight in sorted(spans):
        if start < pos:
            continue
        total += sum(_char_weight(c) for c in text[pos:start])
        total += weight
        pos = end
    total += sum(_char_weight(c) for c in text[pos:])
    return total // _SCALE


def too_long(text: str, *, limit: int = MAX_WEIGHTED_LENGTH) -> int:
    """How far over the limit ``text`` is (0 when it fits)."""
    return max(0, weighted_length(text) - limit)
