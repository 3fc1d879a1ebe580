"""The digest's queries besides the metric counts, written by hand: the baseline of
`bench.digest_compute` (one statement each for sends and reminders, themes and holds, and one per
survey for its latest low-score comments), returning what the library's functions return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from storage.hold_rollups import HoldRow
from storage.metrics import SendRow, ThemeCounts
from storage.models import UTCDateTime
from storage.reminders import ReminderRateRow

SURVEYS = "('support_csat','onboarding_ces','relationship_nps')"
LEFT = "('sent','delivered','undelivered')"
LOW = "CASE metric WHEN 'csat' THEN 2 WHEN 'ces' THEN 3 WHEN 'nps' THEN 6 ELSE -1 END"

SENDS = f"""
SELECT s.survey,
  sum(CASE WHEN repl THEN 0 ELSE 1 END),
  sum(CASE WHEN NOT repl AND r.id IS NOT NULL THEN 1 ELSE 0 END),
  count(*),
  sum(CASE WHEN r.id IS NOT NULL AND (m.send_id IS NULL OR m.sent_at IS NULL
      OR m.status NOT IN {LEFT} OR r.received_at < m.sent_at) THEN 1 ELSE 0 END),
  sum(CASE WHEN m.status IN {LEFT} AND m.sent_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.id IS NOT NULL AND m.status IN {LEFT} AND m.sent_at IS NOT NULL
      AND r.received_at >= m.sent_at THEN 1 ELSE 0 END)
FROM (SELECT *, status = 'undelivered'
        AND EXISTS (SELECT 1 FROM sends f WHERE f.fallback_of = sends.id) AS repl FROM sends) s
LEFT JOIN responses r ON r.send_id = s.id AND r.counted
LEFT JOIN reminders m ON m.send_id = s.id
WHERE s.survey IN {SURVEYS} AND s.status IN {LEFT} AND s.sent_at >= :start AND s.sent_at < :end
  AND NOT s.test
GROUP BY s.survey"""

HOLDS = f"""
SELECT survey, CASE WHEN outcome = 'cancelled' THEN 'cancelled' ELSE coalesce(reason, 'unknown') END
  AS why, count(*)
FROM decisions
WHERE outcome IN ('suppressed', 'cancelled') AND survey IN {SURVEYS}
  AND decided_at >= :start AND decided_at < :end
GROUP BY survey, why"""

COMMENTS = f"""
SELECT survey, score, comment, received_at FROM responses
WHERE survey = :survey AND received_at >= :start AND received_at < :end AND counted
  AND score <= {LOW} AND comment IS NOT NULL AND comment <> ''
ORDER BY received_at DESC, id DESC LIMIT 5"""


def themes_sql(dialect: str, themes: Mapping[str, Sequence[str]]) -> str:
    like = "ILIKE" if dialect == "postgresql" else "LIKE"  # SQLite's LIKE ignores ASCII case
    matches = [
        "sum(CASE WHEN " + " OR ".join(f"comment {like} '%{k}%'" for k in keywords) + " THEN 1 ELSE 0 END)"
        for keywords in themes.values()
    ]
    return f"""
SELECT survey, count(*), sum(CASE WHEN comment IS NOT NULL AND comment <> '' THEN 1 ELSE 0 END),
  {", ".join(matches)}
FROM responses
WHERE survey IN {SURVEYS} AND received_at >= :start AND received_at < :end AND counted
  AND score <= {LOW}
GROUP BY survey"""


def hand_rest(conn: Connection, start: datetime, end: datetime, themes: Mapping[str, Sequence[str]]) -> list:
    """The same values as `bench.digest_compute.rest_of_digest`, from the statements above."""

    def param(value: datetime) -> object:
        if conn.dialect.name == "sqlite":
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    window = {"start": param(start), "end": param(end)}
    parts = [
        tuple(int(v) if i else v for i, v in enumerate(row)) for row in conn.execute(text(SENDS), window)
    ]
    sends = [SendRow(p[0], p[1], p[2]) for p in parts if p[1]]
    rates = [ReminderRateRow(p[0], *p[3:]) for p in parts if p[3]]
    names = list(themes)
    themed = [
        ThemeCounts(
            row[0], int(row[1]), int(row[2]), {n: int(v) for n, v in zip(names, row[3:], strict=True)}
        )
        for row in conn.execute(text(themes_sql(conn.dialect.name, themes)), window)
    ]
    holds = [HoldRow(row[0], row[1], int(row[2])) for row in conn.execute(text(HOLDS), window)]
    comments = text(COMMENTS).columns(received_at=UTCDateTime())
    latest = [
        [tuple(row) for row in conn.execute(comments, {"survey": name, **window})]
        for name in ("support_csat", "onboarding_ces", "relationship_nps")
    ]
    return [sorted(map(repr, sends)), sorted(map(repr, themed)), sorted(map(repr, holds)),
            sorted(map(repr, rates)), latest]  # fmt: skip
