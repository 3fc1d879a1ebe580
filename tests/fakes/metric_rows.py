"""Seeded rows for metric tests: events, sends, responses and decisions with known contents.

The rows are plain dicts, so a test can compute every expected number from them without any
code under test, then insert them with `insert_rows`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from storage.models import SQLModel
from storage.rollups import rebuild_every_rollup

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SURVEYS = {"support_csat": "csat", "onboarding_ces": "ces", "relationship_nps": "nps"}
SCALES = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)}
TEAMS = ["billing", "shipping", "tech", None]
AGENTS = ["sam", "kim", "lee", "ola", 7]  # 7: a number, grouped as the text "7"
COMMENTS = [
    "The INVOICE was wrong",
    "refund took ages",
    "they charged me twice",
    "slow reply",
    "100% useless",
    "",
    None,
]
STATUSES = ["sent", "delivered", "undelivered", "failed", "scheduled", "unknown"]
REASONS = ["contact_cooldown", "survey_cooldown", "opted_out", "stale", None]


@dataclass
class Dataset:
    events: list[dict[str, Any]] = field(default_factory=list)
    sends: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)


def make_dataset(count: int, seed: int = 7, span: timedelta = timedelta(days=16)) -> Dataset:
    """`count` sends (most with a response) spread over `span` before NOW, plus some after it."""
    rng = random.Random(seed)
    data = Dataset()
    for i in range(count):
        survey = rng.choice(list(SURVEYS))
        metric = SURVEYS[survey]
        at = NOW - span + timedelta(seconds=rng.uniform(0, span.total_seconds() + 7200))
        properties: dict[str, Any] = {"agent": rng.choice(AGENTS)}
        if team := rng.choice(TEAMS):
            properties["team"] = team
        status = rng.choice(STATUSES)
        channel = rng.choice(["sms", "email"])
        data.events.append(
            {
                "pk": f"e{i}",
                "type": "ticket.solved",
                "contact_id": f"c{i % 50}",
                "occurred_at": at,
                "received_at": at,
                "properties": properties,
            }
        )
        data.sends.append(
            {
                "id": f"s{i}",
                "event_pk": f"e{i}",
                "trigger": f"t_{survey}",
                "survey": survey,
                "metric": metric,
                "contact_id": f"c{i % 50}",
                "channel": channel,
                "status": status,
                "due_at": at,
                "created_at": at,
                "updated_at": at,
                "sent_at": at if status in ("sent", "delivered", "undelivered") else None,
            }
        )
        if status in ("sent", "delivered", "undelivered") and rng.random() < 0.8:
            low, high = SCALES[metric]
            received = at + timedelta(minutes=rng.uniform(1, 600))
            data.responses.append(
                {
                    "send_id": f"s{i}",
                    "contact_id": f"c{i % 50}",
                    "survey": survey,
                    "metric": metric,
                    "channel": channel,
                    "score": rng.randint(low, high),
                    "comment": rng.choice(COMMENTS),
                    "counted": rng.random() < 0.95,
                    "received_at": received,
                    "updated_at": received,
                }
            )
        if rng.random() < 0.3:
            data.decisions.append(
                {
                    "event_pk": f"e{i}",
                    "contact_id": f"c{i % 50}",
                    "trigger": f"t_{survey}",
                    "survey": survey,
                    "outcome": rng.choice(["suppressed", "scheduled"]),
                    "reason": rng.choice(REASONS),
                    "decided_at": at,
                }
            )
    return data


def insert_rows(engine: Engine, data: Dataset) -> None:
    """Insert the rows past the writers, then rebuild the rollups as the migration does."""
    tables = SQLModel.metadata.tables
    with engine.begin() as conn:
        for name in ("events", "sends", "responses", "decisions"):
            rows = getattr(data, name)
            if rows:
                conn.execute(insert(tables[name]), rows)
        rebuild_every_rollup(conn)
