"""Forbidden words: whole words, case- and accent-insensitive."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable


def fold(text: str) -> str:
    """Lowercase without accents: 'Estúpido' -> 'estupido'.

    Invisible format characters (soft hyphens, zero-width spaces) are dropped too, so
    "es\u00adtúpido" cannot slip a word past the filter."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(
        c
        for i, c in enumerate(decomposed)
        if unicodedata.category(c) != "Cf"
        and (not unicodedata.combining(c) or _is_enye_tilde(decomposed, i))
    )
    # "ñ" is a letter of its own in Spanish, not an accented "n": "año" is not "ano".
    return unicodedata.normalize("NFC", kept)


def _is_enye_tilde(text: str, index: int) -> bool:
    return text[index] == "\u0303" and index > 0 and text[index - 1] == "n"


def _pattern(target: str) -> str:
    # Not \b: compare against word characters explicitly, so "tonto" does not match inside
    # "tontorrón" nor "tonto_1", and a word that starts or ends with a symbol still works.
    # A phrase matches whatever whitespace separates its words in the text ("hijo\nde").
    body = r"\s+".join(re.escape(part) for part in target.split())
    return rf"(?<!\w){body}(?!\w)"


def find_forbidden(text: str, words: Iterable[str]) -> list[str]:
    """The forbidden words (as the admin wrote them) that appear as whole words in ``text``."""
    folded = fold(text)
    found = []
    for word in words:
        target = fold(word).strip()
        if not target:
            continue
        if re.search(_pattern(target), folded):
            found.append(word)
    return found
