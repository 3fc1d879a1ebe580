"""Quiet hours in the contact's own time zone, and how we find that zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_timezones

from triggers.settings import QuietHours

ZoneSource = Literal["contact", "phone", "default"]
_SOURCE_WORDS: dict[ZoneSource, str] = {
    "contact": "the contact's timezone",
    "phone": "the phone number's region",
    "default": "throttle.default_timezone",
}


def zone_source(timezone: str | None, phone: str | None) -> ZoneSource:
    """Where `contact_timezone` found the zone: the contact, its phone number, or the default."""
    if timezone:
        return "contact"
    if phone and _zone_of_phone(phone):
        return "phone"
    return "default"


def quiet_hours_detail(zone: ZoneInfo, timezone: str | None, phone: str | None) -> str:
    """The zone a deferral used and where it came from, for people:
    `America/New_York, from the contact's timezone`."""
    return f"{zone.key}, from {_SOURCE_WORDS[zone_source(timezone, phone)]}"


def contact_timezone(timezone: str | None, phone: str | None, default: str) -> ZoneInfo:
    """The contact's zone; else the one zone its phone number's region has; else the default."""
    if timezone:
        return _zone(timezone)
    if phone and (from_phone := _zone_of_phone(phone)):
        return _zone(from_phone)
    return _zone(default)


@lru_cache(maxsize=4096)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=65536)
def _zone_of_phone(phone: str) -> str | None:
    try:
        zones = phone_timezones.time_zones_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return None
    usable = [zone for zone in zones if zone != "Etc/Unknown"]
    return usable[0] if len(usable) == 1 else None


def _inside(local: time, quiet: QuietHours) -> bool:
    if quiet.start <= quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end  # the window wraps past midnight


def end_of_quiet_hours(moment: datetime, zone: ZoneInfo, quiet: QuietHours | None) -> datetime | None:
    """When `moment` falls in quiet hours, the UTC instant they end; None when it does not."""
    if quiet is None or quiet.start == quiet.end:
        return None
    local = moment.astimezone(zone)
    if not _inside(local.time().replace(tzinfo=None), quiet):
        return None
    end_day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        end_day += timedelta(days=1)
    # A wall time skipped by a DST change resolves (fold=0) to just after the gap: still outside.
    end = datetime.combine(end_day, quiet.end, tzinfo=zone).astimezone(UTC)
    return max(end, moment)
