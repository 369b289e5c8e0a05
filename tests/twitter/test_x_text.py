"""X's weighted length (twitter-text v3): what the 280 limit counts."""

from __future__ import annotations

import pytest

from channels_conn.twitter.text import too_long, urls_in, weighted_length


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("Hola", 4),
        ("¿Dónde está mi pedido? Ñandú", 28),  # Latin with accents weighs 1
        ("a" * 280, 280),
        ("https://example.com/a/very/long/path?with=query&and=more#fragment", 23),
        ("mira https://t.co/x y http://tienda.cl/ofertas.", 5 + 23 + 3 + 23 + 1),
        ("visita tienda.cl hoy", 7 + 23 + 4),
        ("😀", 2),
        ("👍🏽", 2),  # with a skin tone: one emoji
        ("👨‍👩‍👧‍👦", 2),  # a family joined with ZWJ: one emoji
        ("🇨🇱", 2),  # a flag: two regional indicators, one emoji
        ("日本語", 6),  # CJK weighs 2
        ("—“”", 3),  # dashes and quotes are in the light ranges
        ("…", 2),  # the ellipsis (U+2026) is not
        ("e\u0301", 1),  # NFC: e + combining acute is one é
    ],
)
def test_weighted_length(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


def test_urls_lose_trailing_punctuation_and_emails_are_not_urls() -> None:
    assert urls_in("ver (https://tienda.cl/x), o ana@tienda.cl") == ["https://tienda.cl/x"]


def test_the_limit() -> None:
    assert too_long("a" * 280) == 0
    assert too_long("a" * 281) == 1
    assert too_long("日" * 141) == 2  # 282
    assert too_long("x " * 130 + "https://a.example.com/" + "y" * 500) == 3  # 260 + 23
    # 257 characters plus a URL of any length fit exactly.
    assert too_long("a" * 256 + " https://example.com/" + "z" * 300) == 0
