"""What the customer wrote versus the history they quoted, in plain text and in HTML.

Contract: :func:`split_text` and :func:`split_html` return ``(written, quoted)``; ``written +
quoted`` is the whole body (nothing is thrown away, the quoted part is only collapsed), and
``written`` is never empty when the body is not. Inline forwards (``Fwd:``, ``RV:``) are content
and are never split; interleaved answers (bottom posting between quotes) keep every line up to
the customer's last one. Markers: ``>`` quoting, «On … wrote:» / «El … escribió:» (also wrapped
over two lines, Apple's and Yahoo's Spanish), Outlook's «De: / Enviado: / Para: / Asunto:» block
and «-----Mensaje original-----», «Enviado desde mi iPhone» and ``-- `` signatures; in HTML the
quote containers of Gmail, Outlook (desktop, web, new), Apple Mail, Yahoo and Thunderbird.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_ATTRIBUTION = re.compile(
    r"^\s*(on\b.{4,300}\bwrote|el\b.{4,300}\bescribi[óo]|en\b.{4,300}\bescribi[óo]|"
    r"le\b.{4,300}\ba écrit|am\b.{4,300}\bschrieb|em\b.{4,300}\bescreveu)\s*:\s*$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(original message|mensaje original|message d'origine|ursprüngliche nachricht)"
    r"\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(de|from|von)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(enviado(\s+el)?|sent|fecha|date|para|to|asunto|subject|cc)\s*:", re.IGNORECASE
)
_MOBILE = re.compile(
    r"^\s*(enviado desde mi|sent from my|obtener outlook para|get outlook for|"
    r"enviado desde (yahoo|outlook|correo)|sent from (yahoo|outlook|mail for))\b",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|rv|tr|reenv|enc)\s*:", re.IGNORECASE)
_FORWARD_MARK = re.compile(
    r"^\s*(-{2,}\s*(forwarded message|mensaje reenviado)\s*-{2,}|begin forwarded message:|"
    r"inicio del mensaje reenviado:)",
    re.IGNORECASE,
)


def is_forward(subject: str, text: str) -> bool:
    """An inline forward: what follows the marker is the content, not history."""
    if _FORWARD_SUBJECT.match(subject or ""):
        return True
    return any(_FORWARD_MARK.match(line) for line in text.splitlines()[:40])


def _hard_marker(lines: list[str], i: int) -> bool:
    """A line from which everything is history or signature."""
    line = lines[i]
    if line.rstrip("\r") in {"-- ", "--"} or _SEPARATOR.match(line) or _MOBILE.match(line):
        return True
    if _HEADER_FROM.match(line):
        following = [x for x in lines[i + 1 : i + 6] if x.strip()]
        return sum(1 for x in following[:4] if _HEADER_NEXT.match(x)) >= 2
    return False


def _attribution(lines: list[str], i: int) -> int:
    """How many lines the attribution at ``i`` takes (0: none); it may wrap over two."""
    if _ATTRIBUTION.match(lines[i]):
        return 1
    if i + 1 < len(lines) and _ATTRIBUTION.match(f"{lines[i]} {lines[i + 1]}"):
        return 2
    return 0


def split_text(text: str, *, subject: str = "") -> tuple[str, str]:
    """``(written, quoted)`` of a plain-text body (see the module docstring)."""
    if not text.strip() or is_forward(subject, text):
        return text, ""
    lines = text.split("\n")
    end = len(lines)
    last_own = -1
    i = 0
    while i < len(lines):
        if _hard_marker(lines, i):
            end = i
            break
        span = _attribution(lines, i)
        if span:
            following = next((x for x in lines[i + span :] if x.strip()), "")
            if following and not following.lstrip().startswith(">"):
                end = i  # history without '>' marks (Yahoo, Apple, Outlook's plain text)
                break
            i += span
            continue
        if lines[i].strip() and not lines[i].lstrip().startswith(">"):
            last_own = i
        i += 1
    if last_own < 0:
        if end == len(lines) or not "\n".join(lines[:end]).strip():
            return text, ""  # all of it is quoted: show it rather than an empty message
        last_own = end - 1
    cut = min(end, last_own + 1)
    written = "\n".join(lines[:cut]).rstrip()
    quoted = text[len("\n".join(lines[:cut])) :]
    if not written.strip():
        return text, ""
    return written, quoted if quoted.strip() else ""


# --- HTML ------------------------------------------------------------------------------------

_CONTAINER = re.compile(
    r"""<(div|blockquote)\b[^>]*?(class=["'][^"']*\b(gmail_quote|yahoo_quoted|moz-cite-prefix|"""
    r"""gmail_signature|OutlookMessageHeader)\b|id=["'](divRplyFwdMsg|appendonsend|"""
    r"""mail-editor-reference-message-container|Signature|ymail_android_signature)["']|"""
    r"""type=["']cite["']|style=["'][^"']*border-top:\s*solid\s*#(E1E1E1|B5C4DF))""",
    re.IGNORECASE,
)
_HR_STOP = re.compile(r"<hr\b[^>]*id=[\"']stopSpelling[\"']", re.IGNORECASE)
_TEXT_MARK = re.compile(
    r"(enviado desde mi|sent from my|obtener outlook para|get outlook for|"
    r"-{3,}\s*(original message|mensaje original)\s*-{3,})",
    re.IGNORECASE,
)


class _Ender(HTMLParser):
    """Finds where the element opened at offset 0 closes (a tolerant depth count)."""

    VOID = {"br", "img", "hr", "meta", "input", "link", "wbr", "col", "area", "base"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.depth = 0
        self.end: tuple[int, int] | None = None
        self.tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.end is None and tag not in self.VOID:
            self.tag = self.tag or tag
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.end is None and tag not in self.VOID:
            self.depth -= 1
            if self.depth == 0:
                line, col = self.getpos()
                self.end = (line, col)


def _element_end(html: str, start: int) -> int:
    parser = _Ender()
    chunk = html[start:]
    parser.feed(chunk)
    if parser.end is None:
        return len(html)
    line, col = parser.end
    offset = sum(len(x) for x in chunk.splitlines(keepends=True)[: line - 1]) + col
    close = chunk.find(">", offset)
    return start + (close + 1 if close >= 0 else len(chunk))


def _visible_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", html)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(text.replace("&nbsp;", " ").split())


def split_html(html: str, *, subject: str = "") -> tuple[str, str]:
    """``(written, quoted)`` of a raw (unsanitized) HTML body: cut at the first quote
    container, or at an «Enviado desde mi iPhone»-style line; unchanged for forwards and when
    the customer's own text follows the quote (interleaved)."""
    if not html or _FORWARD_SUBJECT.match(subject or ""):
        return html, ""
    candidates = [m.start() for m in (_CONTAINER.search(html), _HR_STOP.search(html)) if m]
    mark = _TEXT_MARK.search(html)
    if mark:
        tag = html.rfind("<", 0, mark.start())
        candidates.append(tag if tag >= 0 else mark.start())
    if not candidates:
        return html, ""
    start = min(candidates)
    if not _visible_text(html[:start]):
        return html, ""  # nothing before the quote: it is all there is to read
    container = _CONTAINER.match(html, start)
    if (
        container is not None
        and _self_contained(container.group(0))
        and _own_text_after(html, _element_end(html, start))
    ):
        return html, ""  # an answer below the quote: interleaved, keep it all
    return html[:start], html[start:]


def _self_contained(tag: str) -> bool:
    """A container that holds the whole quote (Outlook's header divs are followed by it)."""
    return tag.lower().startswith("<blockquote") or bool(
        re.search(r"gmail_quote|yahoo_quoted", tag, re.IGNORECASE)
    )


def _own_text_after(html: str, pos: int) -> bool:
    """Readable text after ``pos`` outside further quote containers and signatures."""
    chunks: list[str] = []
    while True:
        nxt = _CONTAINER.search(html, pos)
        chunks.append(html[pos : nxt.start() if nxt else len(html)])
        if nxt is None:
            break
        pos = _element_end(html, nxt.start())
    after = _visible_text(re.sub(r"(?is)</?(body|html)[^>]*>", "", "".join(chunks)))
    return bool(after) and not _TEXT_MARK.match(after) and not _MOBILE.match(after)
