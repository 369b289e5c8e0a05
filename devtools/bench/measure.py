"""What every benchmark command measures with: percentiles and a statement counter."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in percent); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class StatementCounter:
    """Counts every statement sent to PostgreSQL: pass it to ``connection.execute_wrapper``
    (the benchmark's own wrapper, nothing of the measured code is replaced)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)
