"""The rest of a digest from rollups equals the raw rows, on SQLite and PostgreSQL.

Sends go out, get delivery reports, fallbacks, reminders, responses (late, changed, for test
sends), and held decisions, all through the real writers; theme keyword sets are registered
before or after them; comments are erased and purged by retention. Then for a random window
the response rates, reminder rates, holds and comment themes read mostly from rollups must equal
their raw twins, and `surveybot rollups rebuild` must give back the rollups the writers kept.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select
from sqlmodel import SQLModel

from storage import erasure, fallbacks, inbound, reminders, retention, sends
from storage.db import Database
from storage.metrics import (
    comment_themes,
    holds_by_reason,
    raw_comment_themes,
    raw_holds_by_reason,
    raw_send_counts,
    send_counts,
)
from storage.models import SendStatus
from storage.reminders import raw_reminder_rates, reminder_rates
from storage.responses import load_send_answer, record_response
from storage.rollups import rebuild_every_rollup
from storage.theme_rollups import sync_themes

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
SPAN = 3 * 24 * 3600
SURVEYS = {
    "support_csat": ("csat", 1, 5),
    "onboarding_ces": ("ces", 1, 7),
    "relationship_nps": ("nps", 0, 10),
}
THEMES = {"billing": ["refund", "Invoice"], "speed": ["slow"], "odd": ["50%"], "same": ["slow"]}
COMMENTS = [None, "", "Slow and SLOW", "need a refund", "invoice wrong, 50% off?", "fine", "50 percent"]

sends_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "survey": st.sampled_from(list(SURVEYS)),
            "at": st.integers(0, SPAN),
            "test": st.integers(0, 9).map(lambda n: n == 0),
            "outcome": st.sampled_from(["sent", "sent", "sent", "failed", "unknown"]),
            "report": st.sampled_from([None, "delivered", "undelivered", "failed", "sent"]),
            "fallback": st.booleans(),
            "reminder_after": st.none() | st.integers(60, 6 * 3600),
            "answer_after": st.none() | st.integers(0, 12 * 3600),
            "late": st.integers(0, 5).map(lambda n: n == 0),
            "score": st.floats(0, 1),
            "comment": st.sampled_from(COMMENTS),
            "changed": st.none() | st.tuples(st.floats(0, 1), st.sampled_from(COMMENTS)),
            "hold": st.none()
            | st.tuples(
                st.sampled_from(["suppressed", "cancelled", "fallback"]),
                st.sampled_from([None, "cooldown", "quiet_hours"]),
            ),
            "contact": st.integers(0, 3),
        }
    ),
    max_size=25,
)
windows = st.fixed_dictionaries(
    {
        "end": st.integers(0, SPAN + 14 * 3600),
        "length": st.integers(1, 2 * 24 * 3600) | st.sampled_from([3600, 86400]),
        "aligned": st.booleans(),
    }
)
changes = st.fixed_dictionaries(
    {
        "themes_first": st.booleans(),
        "erase": st.none() | st.integers(0, 3),
        "purge_before": st.none() | st.integers(0, SPAN),
        "low": st.none() | st.integers(1, 5),
    }
)


def empty(db: Database) -> None:
    """No rows but four contacts."""
    with db.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(delete(table))
        contacts = [
            {"id": f"c{i}", "phone": "+15550000", "created_at": T0, "updated_at": T0} for i in range(4)
        ]
        conn.execute(insert(SQLModel.metadata.tables["contacts"]), contacts)


def register_themes(db: Database) -> None:
    with db.write() as conn:
        sync_themes(conn, THEMES.values(), T0)


def go_out(db: Database, i: int, row: dict[str, Any]) -> None:
    """The send leaves (or not) as the dispatcher records it, then the provider reports."""
    at = T0 + timedelta(seconds=row["at"])
    survey, contact = row["survey"], f"c{row['contact']}"
    tables = SQLModel.metadata.tables
    with db.write() as conn:
        conn.execute(insert(tables["events"]).values(
            pk=f"e{i}", type="ticket.solved", contact_id=contact, occurred_at=at, received_at=at,
            properties={},
        ))  # fmt: skip
        conn.execute(insert(tables["sends"]).values(
            id=f"s{i}", event_pk=f"e{i}", trigger=f"t_{survey}", survey=survey,
            metric=SURVEYS[survey][0], contact_id=contact, channel="sms", to_address="+15550000",
            status="sending", due_at=at, created_at=at, updated_at=at, test=row["test"],
            expires_at=at if row["late"] else None,
        ))  # fmt: skip
        moved = {"sent_at": at, "provider_message_id": f"m{i}"} if row["outcome"] == "sent" else {}
        sends.set_status(conn, send_id=f"s{i}", status=SendStatus(row["outcome"]), now=at,
                         from_status=(SendStatus.SENDING,), **moved)  # fmt: skip
    if row["report"] is not None:
        with db.write() as conn:
            later = at + timedelta(minutes=1)
            inbound.record_provider_status(
                conn, message_sid=f"m{i}", status=row["report"], reason=None, now=later
            )
    if row["fallback"]:
        with db.write() as conn:
            origin = fallbacks.load_origin(conn, f"s{i}")
            assert origin is not None
            fallbacks.insert_fallback(conn, origin, channel="email", to="x@example.com", now=at)


def remind(db: Database, i: int, row: dict[str, Any]) -> None:
    at = T0 + timedelta(seconds=row["at"] + row["reminder_after"])
    with db.write() as conn:
        reminders.schedule_reminder(conn, send_id=f"s{i}", due_at=at, now=at)
        reminders.set_reminder_status(conn, send_id=f"s{i}", status=SendStatus.SENDING, now=at,
                                      from_status=(SendStatus.SCHEDULED,))  # fmt: skip
        reminders.set_reminder_status(conn, send_id=f"s{i}", status=SendStatus.SENT, now=at,
                                      from_status=(SendStatus.SENDING,), sent_at=at)  # fmt: skip


def scale(survey: str, fraction: float) -> int:
    _, low, high = SURVEYS[survey]
    return low + round(fraction * (high - low))


def answer(db: Database, i: int, row: dict[str, Any]) -> None:
    at = T0 + timedelta(seconds=row["at"] + row["answer_after"]) + timedelta(seconds=1 if row["late"] else 0)
    given = [(row["score"], row["comment"], at)]
    if row["changed"] is not None:
        given.append((*row["changed"], at + timedelta(minutes=3)))
    for fraction, comment, now in given:
        with db.write() as conn:
            found = load_send_answer(conn, f"s{i}")
            assert found is not None
            record_response(conn, found, score=scale(row["survey"], fraction), comment=comment, now=now)


def hold(db: Database, i: int, row: dict[str, Any]) -> None:
    outcome, reason = row["hold"]
    with db.write() as conn:
        reminders.record_reminder_decision(
            conn, send_id=f"s{i}", outcome=outcome, reason=reason, due_at=None,
            now=T0 + timedelta(seconds=row["at"] + 30),
        )  # fmt: skip


def as_sets(rows: list[Any]) -> list[str]:
    return sorted(map(repr, rows))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=sends_strategy, window=windows, change=changes)
def test_the_rest_of_a_digest_from_rollups_equals_the_raw_rows(
    database: Database, rows: list[dict[str, Any]], window: dict[str, Any], change: dict[str, Any]
) -> None:
    empty(database)
    if change["themes_first"]:
        register_themes(database)
    for i, row in enumerate(rows):
        go_out(database, i, row)
        if row["reminder_after"] is not None:
            remind(database, i, row)
        if row["answer_after"] is not None:
            answer(database, i, row)
        if row["hold"] is not None:
            hold(database, i, row)
    if not change["themes_first"]:
        register_themes(database)
    if change["erase"] is not None:
        with database.write() as conn:
            erasure.erase_listed(conn, erasure.Owners([f"c{change['erase']}"]))
            erasure.cancel_pending_sends(conn, [f"c{change['erase']}"], T0 + timedelta(days=1))
    if change["purge_before"] is not None:
        with database.write() as conn:
            cutoff = T0 + timedelta(seconds=change["purge_before"])
            retention.purge_listed(conn, setting="comments", cutoff=cutoff, limit=10_000)

    end = T0 + timedelta(seconds=window["end"])
    if window["aligned"]:
        end = end.replace(minute=0, second=0)
    asked: dict[str, Any] = {
        "surveys": list(SURVEYS),
        "start": end - timedelta(seconds=window["length"]),
        "end": end,
    }
    lows = {"low_thresholds": {"support_csat": change["low"]} if change["low"] else None}
    with database.engine.connect() as conn:
        assert as_sets(send_counts(conn, **asked)) == as_sets(raw_send_counts(conn, **asked))
        assert as_sets(reminder_rates(conn, **asked)) == as_sets(raw_reminder_rates(conn, **asked))
        assert as_sets(holds_by_reason(conn, **asked)) == as_sets(raw_holds_by_reason(conn, **asked))
        themed = comment_themes(conn, **asked, themes=THEMES, **lows)
        assert as_sets(themed) == as_sets(raw_comment_themes(conn, **asked, themes=THEMES, **lows))
        kept = rollup_rows(conn)
    with database.write() as conn:
        rebuild_every_rollup(conn)
    with database.engine.connect() as conn:
        assert rollup_rows(conn) == kept


def rollup_rows(conn: Any) -> dict[str, list[Any]]:
    """Every rollup table's rows with a count in them (a writer may leave zeros behind)."""
    names = ["metric_rollups", "send_rollups", "hold_rollups", "theme_rollups"]
    found = {}
    for name in names:
        table = SQLModel.metadata.tables[name]
        counts = [c.name for c in table.columns if not c.primary_key and c.name != "metric"]
        rows = conn.execute(select(table)).all()
        found[name] = sorted(tuple(r) for r in rows if any(r._mapping[c] for c in counts))
    return found


def test_a_theme_not_kept_is_read_from_the_rows(database: Database) -> None:
    empty(database)
    row = {"survey": "support_csat", "at": 0, "test": False, "outcome": "sent", "report": None,
           "fallback": False, "late": False, "score": 0.0, "comment": "slow refund", "changed": None,
           "answer_after": 7200, "contact": 0}  # fmt: skip
    go_out(database, 0, row)
    answer(database, 0, row)
    register_themes(database)
    asked = {"surveys": ["support_csat"], "start": T0, "end": T0 + timedelta(days=1)}
    with database.engine.connect() as conn:
        (kept,) = comment_themes(conn, **asked, themes={"speed": ["slow"]})
        (fresh,) = comment_themes(conn, **asked, themes={"speed": ["slow"], "new": ["refund", "x"]})
    assert (kept.low_total, kept.low_commented, kept.themes) == (1, 1, {"speed": 1})
    assert fresh.themes == {"speed": 1, "new": 1}
