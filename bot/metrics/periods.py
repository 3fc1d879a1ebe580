"""Calendar periods cut at local midnight: ISO weeks (from Monday), months and quarters.

A period is `[start, end)` between two local midnights of a time zone, as aware instants, so a
week holding a DST change is 167 or 169 hours long and a zone like +05:30 cuts at its own
midnight, not on a UTC hour. The last period shown is the one holding `end`; it is cut at `end`
and marked `partial`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PeriodKind = Literal["week", "month", "quarter"]
KINDS: tuple[PeriodKind, ...] = ("week", "month", "quarter")
DEFAULT_COUNTS: dict[PeriodKind, int] = {"week": 12, "month": 12, "quarter": 8}
MAX_PERIODS = 520


@dataclass(frozen=True)
class Period:
    """`label` is `2026-W49`, `2026-12` or `2026-Q4`; `partial` when `end` cuts it short. `start`
    and `end` are in the periods' zone: subtract or compare them as UTC instants."""

    label: str
    start: datetime
    end: datetime
    partial: bool


def first_day(kind: PeriodKind, day: date) -> date:
    """The first day of the period holding `day`."""
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_first_day(kind: PeriodKind, first: date) -> date:
    """The first day of the period after the one starting on `first`."""
    if kind == "week":
        return first + timedelta(days=7)
    months = 1 if kind == "month" else 3
    year, month = divmod(first.month - 1 + months, 12)
    return date(first.year + year, month + 1, 1)


def label(kind: PeriodKind, first: date) -> str:
    if kind == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{first.year}-{first.month:02d}"
    return f"{first.year}-Q{(first.month - 1) // 3 + 1}"


def periods(
    kind: PeriodKind, *, end: datetime, zone: ZoneInfo, count: int | None = None, since: date | None = None
) -> list[Period]:
    """The last `count` periods up to `end` (the last one holds `end`), or those from the one
    holding the local day `since` to `end`; oldest first."""
    last = first_day(kind, _local_day(end - timedelta(microseconds=1), zone))
    if since is not None:
        firsts = [first_day(kind, since)]
        while firsts[-1] < last:
            firsts.append(next_first_day(kind, firsts[-1]))
        firsts = firsts[-MAX_PERIODS:]
    else:
        firsts = [last]
        for _ in range((count or DEFAULT_COUNTS[kind]) - 1):
            firsts.insert(0, _previous_first_day(kind, firsts[0]))
    return [_period(kind, first, end, zone) for first in firsts]


def _period(kind: PeriodKind, first: date, end: datetime, zone: ZoneInfo) -> Period:
    # Compared as UTC instants: aware datetimes of one zone compare by wall clock.
    stop, until = midnight(next_first_day(kind, first), zone), end.astimezone(UTC)
    partial = until < stop.astimezone(UTC)
    last = end.astimezone(zone) if partial else stop
    return Period(label(kind, first), midnight(first, zone), last, partial)


def _previous_first_day(kind: PeriodKind, first: date) -> date:
    return first_day(kind, first - timedelta(days=1))


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of the local `day` (when DST skips midnight, the instant it jumps at)."""
    return datetime.combine(day, time.min, zone)


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
