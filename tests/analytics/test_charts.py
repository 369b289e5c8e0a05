"""The SVG charts: axes read as whole, distinct numbers and long labels stay in their column."""

import datetime
import re

import pytest

from analytics import charts
from analytics.charts import Series


def _ticks(svg: str) -> list[str]:
    return re.findall(
        r'<text class="tick" x="[^"]+" y="[^"]+" text-anchor="end">([^<]*)</text>', svg
    )


def test_count_axis_never_repeats_a_tick() -> None:
    days = [datetime.date(2026, 12, 1) + datetime.timedelta(days=i) for i in range(3)]
    for highest in (0, 1, 3, 7, 21, 25, 130, 999):
        svg = charts.bar_chart("t", days, [Series("a", "s1", [highest, 0, 0])])
        ticks = _ticks(svg)
        assert len(ticks) == 5
        assert len(set(ticks)) == 5, (highest, ticks)
        assert all(re.fullmatch(r"[0-9.,\xa0 ]+", t) for t in ticks), ticks


def test_long_bar_labels_end_in_an_ellipsis_and_keep_the_whole_label_as_title() -> None:
    label = "Departamento: Atención de clientes corporativos del sur"
    svg = charts.stacked_bars(
        "t",
        [(label, [3, 1]), ("Ventas", [1, 0])],
        [
            Series("A tiempo", "s2", []),
            Series("Tarde", "s4", []),
        ],
    )
    shown = re.search(r'<text class="label"[^>]*>([^<]*)<title>', svg)
    assert shown is not None and shown.group(1).endswith("…")
    assert f"<title>{label}</title>" in svg


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (45, "45 s"),
        (200, "3 min 20 s"),
        (180, "3 min"),
        (3900, "1 h 05 min"),
        (7200, "2 h"),
        (4530, "1 h 15 min"),
        (187_200, "2 d 4 h"),
        (172_800, "2 d"),
    ],
)
def test_durations_read_in_their_two_largest_units(seconds, text) -> None:
    assert charts.duration(seconds) == text


def test_duration_axis_ticks_read_in_one_unit() -> None:
    days = [datetime.date(2026, 12, 1) + datetime.timedelta(days=i) for i in range(3)]
    for highest in (20, 50, 100, 1000, 4000, 6000, 30_000, 100_000, 150_000, 500_000):
        svg = charts.line_chart(
            "t", days, [Series("a", "s1", [highest, None, 1])], fmt=charts.duration
        )
        ticks = _ticks(svg)
        assert len(set(ticks)) == 5, (highest, ticks)
        assert all(re.fullmatch(r"[0-9]+ (s|min|h|d)", t) for t in ticks), (highest, ticks)
