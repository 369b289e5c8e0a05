"""Fixed buckets of first-response times, and percentiles estimated from their counts.

A page sums the daily histograms of the period and estimates the median and p90 from the
totals, so its cost does not grow with the tickets answered. The resolution (the width of
the bucket a value falls in) is 1 min up to 10 min, 5 min up to 1 h, 15 min up to 4 h, 1 h up
to a day, 6 h up to 3 days and a day up to a week; longer answers share the last bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

MINUTE, HOUR, DAY = 60, 3600, 86400


def _steps(start: int, stop: int, step: int) -> list[int]:
    return list(range(start, stop, step))


# Lower bound (seconds) of each bucket; bucket i holds [BOUNDS[i], BOUNDS[i + 1]).
BOUNDS: tuple[int, ...] = tuple(
    _steps(0, 10 * MINUTE, MINUTE)
    + _steps(10 * MINUTE, HOUR, 5 * MINUTE)
    + _steps(HOUR, 4 * HOUR, 15 * MINUTE)
    + _steps(4 * HOUR, DAY, HOUR)
    + _steps(DAY, 3 * DAY, 6 * HOUR)
    + _steps(3 * DAY, 7 * DAY, DAY)
    + [7 * DAY]
)
COLUMNS: tuple[str, ...] = tuple(f"frt_b{i:02d}" for i in range(len(BOUNDS)))


def bucket_of(seconds: int) -> int:
    """The index of the bucket that holds ``seconds`` (negative counts as 0)."""
    low, high = 0, len(BOUNDS) - 1
    while low < high:  # the last bound <= seconds
        middle = (low + high + 1) // 2
        if BOUNDS[middle] <= seconds:
            low = middle
        else:
            high = middle - 1
    return low


def _middle(i: int) -> float:
    """Where a bucket's values are taken to be: its middle (the open last bucket: its bound)."""
    if i == len(BOUNDS) - 1:
        return float(BOUNDS[i])
    return (BOUNDS[i] + BOUNDS[i + 1]) / 2


def percentile(counts: Sequence[int], p: float) -> float | None:
    """The ``p`` quantile (0..1) the way ``percentile_cont`` computes it, with each value
    replaced by the middle of its bucket: off by at most half a bucket's width."""
    total = sum(counts)
    if total == 0:
        return None
    position = (total - 1) * p
    below, fraction = int(position), position - int(position)
    low = _value_at(counts, below)
    if fraction == 0:
        return low
    return low + fraction * (_value_at(counts, below + 1) - low)


def _value_at(counts: Sequence[int], rank: int) -> float:
    """The (0-based) ``rank``-th value in order, as its bucket's middle."""
    for i, seen in enumerate(accumulate(counts)):
        if rank < seen:
            return _middle(i)
    raise ValueError(rank)  # rank >= total: not reached by percentile()
