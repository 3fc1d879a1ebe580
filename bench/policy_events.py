"""Synthetic touchpoint events for the policy benches: many contacts, several zones, time order.

python bench/policy_events.py OUT.jsonl --events 1000000 [--contacts 200000] [--days 90]
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

START = datetime(2026, 1, 5, tzinfo=UTC)
# Valid numbers whose region names one time zone (New York, Los Angeles, Chicago, London, Berlin).
PHONE_PREFIXES = ("+1212", "+1415", "+1312", "+4420", "+4930")
TYPES = ("ticket.solved", "ticket.solved", "ticket.solved", "order.delivered", "ticket.reopened")


def contact(index: int) -> dict[str, str]:
    prefix = PHONE_PREFIXES[index % len(PHONE_PREFIXES)]
    # One number per contact: 7 (US) or 8 (London, Berlin) digits after the area code.
    digits = f"{2_000_000 + index:07d}" if prefix.startswith("+1") else f"7{index:07d}"
    body: dict[str, str] = {"id": f"cus_{index}", "phone": f"{prefix}{digits}"}
    if index % 3 == 0:
        body["email"] = f"cus_{index}@example.com"
    return body


def events(count: int, contacts: int, days: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    step = timedelta(days=days) / count
    lines = []
    for i in range(count):
        who = rng.randrange(contacts)
        moment = START + step * i
        body = {
            "id": f"evt_{i}",
            "type": rng.choice(TYPES),
            "occurred_at": moment.isoformat().replace("+00:00", "Z"),
            "contact": contact(who),
            "properties": {
                "ticket_id": f"T-{who}-{rng.randrange(3)}",
                "team": rng.choice(("billing", "tech")),
            },
        }
        lines.append(orjson.dumps(body))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    with args.out.open("wb") as out:
        for line in events(args.events, args.contacts, args.days):
            out.write(line + b"\n")


if __name__ == "__main__":
    main()
