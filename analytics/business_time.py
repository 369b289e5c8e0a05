"""Business seconds between two instants, on the arithmetic of the SLA clock.

The schedule rules (what "open" means, daylight-saving gaps and folds, holidays) live in the
business-hours module; this only sums the open stretches it reports between two moments."""

from __future__ import annotations

import datetime

from deskconfig.business_hours import Plan, _window


def business_seconds(plan: Plan | None, start: datetime.datetime, end: datetime.datetime) -> int:
    """Seconds of ``plan``'s open time within [start, end]; wall-clock seconds without a plan."""
    if end <= start:
        return 0
    if plan is None:
        return int((end - start).total_seconds())
    start, end = start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)
    total = sum(((b - a) for a, b in _window(plan, start, end)), datetime.timedelta())
    return int(total.total_seconds())
