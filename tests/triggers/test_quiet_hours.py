"""Quiet hours in the contact's own zone, across daylight-saving nights and midnight."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from triggers.quiet_hours import contact_timezone, end_of_quiet_hours
from triggers.settings import QuietHours

NIGHT = QuietHours(start=time(20, 0), end=time(9, 0))
NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "zone", "quiet", "expected"),
    [
        # US spring forward (2026-03-08, 02:00 EST -> 03:00 EDT): 09:00 EDT is 13:00 UTC.
        ("2026-03-08 03:00", NEW_YORK, NIGHT, "2026-03-08 13:00"),
        # US fall back (2026-11-01, 02:00 EDT -> 01:00 EST): 09:00 EST is 14:00 UTC.
        ("2026-11-01 05:30", NEW_YORK, NIGHT, "2026-11-01 14:00"),
        # 08:30 EST the morning after fall back is still quiet (it would be 09:30 in EDT).
        ("2026-11-01 13:30", NEW_YORK, NIGHT, "2026-11-01 14:00"),
        # Evening before the US change: wraps midnight into the shorter night.
        ("2026-03-08 01:30", NEW_YORK, NIGHT, "2026-03-08 13:00"),  # 20:30 EST on the 7th
        # EU spring forward (2026-03-29, 02:00 CET -> 03:00 CEST): 09:00 CEST is 07:00 UTC.
        ("2026-03-28 22:00", BERLIN, NIGHT, "2026-03-29 07:00"),
        # EU fall back (2026-10-25, 03:00 CEST -> 02:00 CET): 09:00 CET is 08:00 UTC.
        ("2026-10-24 19:00", BERLIN, NIGHT, "2026-10-25 08:00"),
        # A window ending inside the skipped hour ends when the clock jumps past it.
        ("2026-03-29 00:30", BERLIN, QuietHours(start=time(1, 0), end=time(2, 30)), "2026-03-29 01:30"),
        # A window ending in the repeated hour ends the first time the clock shows its end.
        ("2026-10-24 23:30", BERLIN, QuietHours(start=time(1, 0), end=time(2, 30)), "2026-10-25 00:30"),
        # A window that does not wrap midnight.
        (
            "2026-06-01 11:00",
            ZoneInfo("UTC"),
            QuietHours(start=time(11, 0), end=time(13, 0)),
            "2026-06-01 13:00",
        ),
    ],
)
def test_quiet_hours_end_at_the_local_end_of_the_window(
    moment: str, zone: ZoneInfo, quiet: QuietHours, expected: str
) -> None:
    assert end_of_quiet_hours(utc(moment), zone, quiet) == utc(expected)


@pytest.mark.parametrize(
    ("moment", "zone"),
    [
        ("2026-03-08 14:00", NEW_YORK),  # 10:00 EDT, the morning after spring forward
        ("2026-10-25 08:00", BERLIN),  # exactly 09:00 CET: the window is over
    ],
)
def test_outside_quiet_hours_nothing_moves(moment: str, zone: ZoneInfo) -> None:
    assert end_of_quiet_hours(utc(moment), zone, NIGHT) is None


def test_the_zone_comes_from_the_contact_then_the_phone_then_the_default() -> None:
    assert contact_timezone("Asia/Tokyo", "+12125550100", "UTC") == ZoneInfo("Asia/Tokyo")
    assert contact_timezone(None, "+12125550100", "UTC") == ZoneInfo("America/New_York")
    assert contact_timezone(None, "+4930901820", "UTC") == ZoneInfo("Europe/Berlin")
    # A US toll-free number names no single zone: the default applies.
    assert contact_timezone(None, "+18005550100", "Europe/London") == ZoneInfo("Europe/London")
    assert contact_timezone(None, None, "Europe/London") == ZoneInfo("Europe/London")
