"""Server-rendered SVG charts. Colours come from CSS classes (``static/css/analytics.css``),
so the same markup reads in light and dark mode; every mark carries a <title> with its value
and every chart has a table beside it (and a CSV)."""

from __future__ import annotations

import datetime
import functools
import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils import formats, translation
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

W, H = 560, 220  # the viewBox; the SVG scales to its box
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 12, 26


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # s1..s4: the colour of the series
    values: Sequence[float | None]


def duration(seconds: float | None) -> str:
    """A duration as people read it, in its two largest units: «45 s», «3 min 20 s»,
    «1 h 05 min», «2 d 4 h» (the smaller unit left out when it is zero)."""
    if seconds is None:
        return "—"
    s = round(seconds)
    if s < 60:
        return _("%(n)s s") % {"n": s}
    m, s = divmod(s, 60)
    if m < 60:
        if s:
            return _("%(m)s min %(s)s s") % {"m": m, "s": f"{s:02d}"}
        return _("%(n)s min") % {"n": m}
    h, m = divmod(m, 60)
    if h < 24:
        return _("%(h)s h %(m)s min") % {"h": h, "m": f"{m:02d}"} if m else _("%(h)s h") % {"h": h}
    d, h = divmod(h, 24)
    return _("%(d)s d %(h)s h") % {"d": d, "h": h} if h else _("%(d)s d") % {"d": d}


def number(n: float | None) -> str:
    """A whole number as the active language writes it (grouped thousands)."""
    if n is None:
        return "—"
    separator, grouping = _grouping(translation.get_language())
    if grouping == 3:  # every locale we speak: format once, swap the separator
        return f"{int(n):,}".replace(",", separator)  # truncated, as number_format does
    return formats.number_format(n, decimal_pos=0, use_l10n=True, force_grouping=True)


@functools.cache
def _grouping(language: str | None) -> tuple[str, int]:
    """The thousand separator and grouping of a language (looked up once: a page formats
    thousands of numbers)."""
    with translation.override(language):
        return str(formats.get_format("THOUSAND_SEPARATOR")), int(
            formats.get_format("NUMBER_GROUPING")
        )


@functools.cache
def day_format(language: str | None, d: datetime.date, pattern: str) -> str:
    """``formats.date_format`` remembered per language and day (a page labels each day of
    the period in several panels)."""
    with translation.override(language):
        return formats.date_format(d, pattern)


def _html(template: str, *args: object) -> SafeString:
    """format_html with floats written short: every argument is escaped unless it is already
    safe markup. A chart has thousands of marks, so this skips format_html's per-call lazy
    machinery (the escaping is the same five characters)."""
    return mark_safe(template.format(*[_escaped(a) for a in args]))  # noqa: S308 - escaped above


def _escaped(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def _join(parts: Sequence[SafeString]) -> SafeString:
    """Concatenate already-escaped fragments (each made by _html)."""
    return mark_safe("".join(parts))  # noqa: S308 - every part is safe markup


# Axis tops for durations: four ticks of a round number of seconds, minutes, hours or days,
# each tick in one unit (a step of 30 min would read «1 h 30 min», too wide for the axis).
_DURATION_STEPS = [15, 60, 300, 600, 900, 3600, 7200, 10800, 21600, 86400]


def _nice_duration_max(v: float) -> float:
    for step in _DURATION_STEPS:
        if step * 4 >= v:
            return step * 4
    return 86400 * 4 * math.ceil(v / (86400 * 4))


def _nice_max(v: float) -> float:
    """The top of a count axis: four equal steps of a whole, round number (0 5 10 15 20), so
    no tick repeats or shows a rounded fraction (a top of 1 used to read 0 0 0 0 1)."""
    for power in range(0, 12):
        for step in (1, 2, 3, 4, 5, 6, 8):
            if step * 10**power * 4 >= v:
                return float(step * 10**power * 4)
    return v


def _day_label(d: datetime.date) -> str:
    return day_format(translation.get_language(), d, "j M")


def _axes(top: float, fmt: Callable[[float], str], days: Sequence[datetime.date]) -> SafeString:
    plot_h = H - TOP - BOTTOM
    grid = []
    for i in range(5):
        v = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        grid.append(
            _html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
                LEFT,
                W - RIGHT,
                y,
                y,
                LEFT - 6,
                y + 4,
                fmt(v),
            )
        )
    step = max(1, round(len(days) / 8))
    plot_w = W - LEFT - RIGHT
    for i in range(0, len(days), step):
        x = LEFT + plot_w * (i + 0.5) / len(days)
        grid.append(
            _html(
                '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                x,
                H - 8,
                _day_label(days[i]),
            )
        )
    return _join(grid)


def _svg(title: str, body: SafeString, legend: Sequence[Series]) -> SafeString:
    keys = format_html_join(
        "", '<span class="key"><i class="sw {}"></i>{}</span>', ((s.css, s.name) for s in legend)
    )
    return _html(
        '<figure class="chart"><svg viewBox="0 0 {} {}" role="img" preserveAspectRatio="none"'
        ' aria-label="{}"><title>{}</title>{}</svg><figcaption class="legend">{}</figcaption>'
        "</figure>",
        W,
        H,
        title,
        title,
        body,
        keys,
    )


def bar_chart(
    title: str,
    days: Sequence[datetime.date],
    series: Sequence[Series],
    fmt: Callable[[float], str] = number,
) -> SafeString:
    """Grouped columns per day."""
    top = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    width = slot * 0.8 / max(len(series), 1)
    marks = []
    for j, s in enumerate(series):
        for i, v in enumerate(s.values):
            if not v:
                continue
            h = plot_h * v / top
            x = LEFT + slot * i + slot * 0.1 + width * j
            marks.append(
                _html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{} · {}: {}</title></rect>",
                    s.css,
                    x,
                    TOP + plot_h - h,
                    max(width - 0.5, 0.5),
                    h,
                    _day_label(days[i]),
                    s.name,
                    fmt(v),
                )
            )
    body = _join([_axes(top, fmt, days), *marks])
    return _svg(title, body, series)


def line_chart(
    title: str,
    days: Sequence[datetime.date],
    series: Sequence[Series],
    fmt: Callable[[float], str] = number,
) -> SafeString:
    """One line per series; a missing value breaks the line."""
    highest = max((v or 0 for s in series for v in s.values), default=0)
    top = _nice_duration_max(highest) if fmt is duration else _nice_max(highest)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    marks = []
    for s in series:
        points: list[tuple[float, float]] = []
        runs: list[list[tuple[float, float]]] = []
        for i, v in enumerate(s.values):
            if v is None:
                if points:
                    runs.append(points)
                points = []
                continue
            x = LEFT + plot_w * (i + 0.5) / max(len(days), 1)
            y = TOP + plot_h - plot_h * v / top
            points.append((x, y))
            marks.append(
                _html(
                    '<circle class="dot {}" cx="{}" cy="{}" r="3"><title>{} · {}: {}'
                    "</title></circle>",
                    s.css,
                    x,
                    y,
                    _day_label(days[i]),
                    s.name,
                    fmt(v),
                )
            )
        runs.append(points)
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                marks.insert(0, _html('<polyline class="line {}" points="{}"/>', s.css, path))
    body = _join([_axes(top, fmt, days), *marks])
    return _svg(title, body, series)


def heat_map(title: str, grid: Sequence[Sequence[int]]) -> SafeString:
    """Weekday rows by hour columns; the darker, the more incoming messages."""
    names = [_("Lun"), _("Mar"), _("Mié"), _("Jue"), _("Vie"), _("Sáb"), _("Dom")]
    top = max((v for row in grid for v in row), default=0) or 1
    cell_w, cell_h, left, head = 40, 26, 44, 20
    width, height = left + 24 * cell_w, head + 7 * cell_h
    marks = []
    for h in range(0, 24, 3):
        marks.append(
            _html(
                '<text class="tick" x="{}" y="12" text-anchor="middle">{}h</text>',
                left + h * cell_w + cell_w / 2,
                h,
            )
        )
    for d, row in enumerate(grid):
        y = head + d * cell_h
        marks.append(_html('<text class="tick" x="0" y="{}">{}</text>', y + 17, names[d]))
        for h, v in enumerate(row):
            marks.append(
                _html(
                    '<rect class="cell" x="{}" y="{}" width="{}" height="{}" rx="3"'
                    ' fill-opacity="{}"><title>{} {}:00 · {}</title></rect>',
                    left + h * cell_w + 1,
                    y + 1,
                    cell_w - 2,
                    cell_h - 2,
                    0.06 + 0.94 * v / top if v else 0.03,
                    names[d],
                    h,
                    number(v),
                )
            )
    return _html(
        '<figure class="chart heat"><svg viewBox="0 0 {} {}" role="img" aria-label="{}">'
        "<title>{}</title>{}</svg></figure>",
        width,
        height,
        title,
        title,
        _join(marks),
    )


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def stacked_bars(
    title: str, rows: Sequence[tuple[str, Sequence[float]]], parts: Sequence[Series]
) -> SafeString:
    """One horizontal bar per row, split in ``parts`` (their ``values`` are unused)."""
    # The label column fits the longest label (about 7 units a character at 13px), within
    # bounds that leave the bars most of the width; longer labels end in «…».
    longest = max((len(label) for label, _v in rows), default=0)
    label_w, bar_h, gap = min(230, max(110, longest * 7 + 12)), 20, 8
    label_chars = (label_w - 12) // 7
    width = W
    height = max(len(rows), 1) * (bar_h + gap)
    top = max((sum(v) for _label, v in rows), default=0) or 1
    marks = []
    for i, (label, values) in enumerate(rows):
        y = i * (bar_h + gap)
        marks.append(
            _html(
                '<text class="label" x="0" y="{}">{}<title>{}</title></text>',
                y + bar_h - 4,
                _clip(label, label_chars),
                label,
            )
        )
        x = float(label_w)
        for part, v in zip(parts, values, strict=False):
            if not v:
                continue
            w = (width - label_w - 60) * v / top
            marks.append(
                _html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}" rx="2">'
                    "<title>{} · {}: {}</title></rect>",
                    part.css,
                    x,
                    y,
                    w,
                    bar_h,
                    label,
                    part.name,
                    number(v),
                )
            )
            x += w
        marks.append(
            _html(
                '<text class="tick" x="{}" y="{}">{}</text>',
                x + 6,
                y + bar_h - 4,
                number(sum(values)),
            )
        )
    keys = format_html_join(
        "", '<span class="key"><i class="sw {}"></i>{}</span>', ((s.css, s.name) for s in parts)
    )
    return _html(
        '<figure class="chart bars"><svg viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<title>{}</title>{}</svg><figcaption class="legend">{}</figcaption></figure>',
        width,
        height,
        title,
        title,
        _join(marks),
        keys,
    )
