"""The waiting time on a card reads the same when rendered and when the page ticks it."""

from __future__ import annotations

import pytest

from tickets.cards import wait_label


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (-5, "0 min"),
        (59, "0 min"),
        (60, "1 min"),
        (59 * 60 + 59, "59 min"),
        (3600, "1 h 0 min"),
        (2 * 3600 + 5 * 60, "2 h 5 min"),
        (24 * 3600, "1 d 0 h"),
        (3 * 86400 + 4 * 3600 + 59, "3 d 4 h"),
    ],
)
def test_wait_label(seconds: int, label: str) -> None:
    assert wait_label(seconds) == label
