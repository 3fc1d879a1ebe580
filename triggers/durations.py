"""Durations as people write them in the config: `30s`, `10m`, `2h`, `7d` (and `1w`)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# The one way every message and doc spells the units out.
UNITS_HELP = "s seconds, m minutes, h hours, d days, w weeks: 30s, 10m, 2h, 7d, 1w"
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """`"10m"` -> 10 minutes; anything else raises ValueError saying what is expected."""
    if text.strip() == "0":
        return timedelta(0)
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(not_a_duration(text))
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def not_a_duration(value: object) -> str:
    return f"{value!r} is not a duration like 10m ({UNITS_HELP})"


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling: 7 days -> `7d`, 90 minutes -> `90m`."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"
