"""Periods cut at local midnight: ISO weeks from Monday, months, quarters, DST and +05:30."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.metrics.periods import periods

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")


def test_a_week_starts_on_monday_and_is_named_by_its_iso_year() -> None:
    end = datetime(2027, 1, 3, 12, tzinfo=UTC)  # a Sunday
    cut = periods("week", end=end, zone=ZoneInfo("UTC"), count=3)
    assert [(p.label, p.start.date().isoformat()) for p in cut] == [
        ("2026-W51", "2026-12-14"),
        ("2026-W52", "2026-12-21"),
        ("2026-W53", "2026-12-28"),  # 2026 has 53 ISO weeks; 2027-01-03 still belongs to it
    ]
    assert all(p.start.weekday() == 0 for p in cut)
    assert cut[-1].end == end and cut[-1].partial and not cut[0].partial
    assert cut[0].end == cut[1].start


def test_the_week_of_a_dst_change_is_169_hours_and_cut_at_local_midnight() -> None:
    end = datetime(2026, 11, 10, tzinfo=UTC)
    [dst, after, _] = periods("week", end=end, zone=NEW_YORK, count=3)
    assert dst.start == datetime(2026, 10, 26, tzinfo=NEW_YORK)  # Monday; DST ends Sunday 1 November
    assert dst.start.utcoffset() == timedelta(hours=-4) and dst.end.utcoffset() == timedelta(hours=-5)
    assert dst.end - dst.start.astimezone(UTC) == timedelta(hours=169)  # as instants, not wall clocks
    assert after.end - after.start.astimezone(UTC) == timedelta(hours=168)
    assert dst.end.astimezone(NEW_YORK).hour == 0


def test_months_and_quarters_in_a_half_hour_zone() -> None:
    end = datetime(2026, 11, 22, 12, tzinfo=UTC)
    months = periods("month", end=end, zone=KOLKATA, count=3)
    assert [p.label for p in months] == ["2026-09", "2026-10", "2026-11"]
    assert months[2].start == datetime(2026, 10, 31, 18, 30, tzinfo=UTC)  # midnight at +05:30
    quarters = periods("quarter", end=end, zone=KOLKATA)
    assert len(quarters) == 8 and quarters[0].label == "2025-Q1" and quarters[-1].label == "2026-Q4"
    assert quarters[-2].start == datetime(2026, 6, 30, 18, 30, tzinfo=UTC)


def test_the_end_at_a_period_boundary_belongs_to_the_period_before() -> None:
    end = datetime(2026, 12, 1, tzinfo=UTC)
    cut = periods("month", end=end, zone=ZoneInfo("UTC"), count=2)
    assert [p.label for p in cut] == ["2026-10", "2026-11"]
    assert not cut[-1].partial and cut[-1].end == end


def test_since_starts_at_the_period_holding_that_day_and_defaults_count_the_rest() -> None:
    end = datetime(2026, 11, 22, 12, tzinfo=UTC)
    cut = periods("month", end=end, zone=NEW_YORK, since=date(2026, 6, 15))
    assert [p.label for p in cut] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert len(periods("week", end=end, zone=NEW_YORK)) == 12
    assert len(periods("month", end=end, zone=NEW_YORK)) == 12
