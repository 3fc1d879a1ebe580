"""The one way a moment is written for people (terminal tables, digests): `Thu 03 Dec 2026 09:48`.

Programs get ISO 8601 (`--json`, the API); people get this, with the zone said once nearby.
"""

from __future__ import annotations

from datetime import UTC, datetime

PEOPLE_TIME = "%a %d %b %Y %H:%M"


def when(moment: datetime) -> str:
    return f"{moment:{PEOPLE_TIME}}"


def when_iso(text: str) -> str:
    """An ISO 8601 UTC string as stored (`2026-12-03T17:00:00Z`), written for people, in UTC."""
    return when(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC))
