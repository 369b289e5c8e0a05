"""Forbidden words: whole words, case- and accent-insensitive."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable


def fold(text: str) -> str:
    """Lowercase without accents: 'Estúpido' -> 'estupido'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def find_forbidden(text: str, words: Iterable[str]) -> list[str]:
    """The forbidden words (as the admin wrote them) that appear as whole words in ``text``."""
    folded = fold(text)
    found = []
    for word in words:
        target = fold(word.strip())
        if not target:
            continue
        # \b would treat "ñ"/accented letters as boundaries in some inputs; compare against
        # letters and digits explicitly so "tonto" does not match inside "tontorrón".
        pattern = rf"(?<![\w]){re.escape(target)}(?![\w])"
        if re.search(pattern, folded):
            found.append(word)
    return found
