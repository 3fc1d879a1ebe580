"""Rollups give a window exactly the numbers of the raw rows, on SQLite and PostgreSQL.

The responses go in through the real writers (recorded, changed, late, for test sends), paths
are registered before or after them, events are purged and erased; then `digest_metrics` (mostly
rollups) must equal `raw_digest_metrics` (the rows alone) for a random window and its previous one,
and `daily_series` its raw twin for the window's local days.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, text
from sqlmodel import SQLModel

from bot.metrics.report import day_starts
from storage import erasure, retention
from storage.db import Database
from storage.metrics import daily_series, digest_metrics, raw_daily_series, raw_digest_metrics
from storage.migrate import upgrade
from storage.models import MetricRollup
from storage.responses import load_send_answer, record_response
from storage.rollups import rebuild_rollups, sync_paths

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
SPAN = 4 * 24 * 3600  # seconds of responses
SURVEYS = {
    "support_csat": ("csat", 1, 5),
    "onboarding_ces": ("ces", 1, 7),
    "relationship_nps": ("nps", 0, 10),
}
PATHS = ["properties.team", "properties.agent", "channel", "type", "trigger"]
EVERY_PATH: list[str | None] = [None, *PATHS, "contact.locale"]

responses = st.lists(
    st.fixed_dictionaries(
        {
            "survey": st.sampled_from(list(SURVEYS)),
            "channel": st.sampled_from(["sms", "email"]),
            "type": st.sampled_from(["ticket.solved", "order.delivered"]),
            "team": st.sampled_from(["billing", "tech", None, 7, True]),
            "agent": st.sampled_from(["sam", "kim", "Zoë", "a'b"]),
            "at": st.integers(0, SPAN),
            "score": st.floats(0, 1),
            "late": st.integers(0, 4).map(lambda n: n == 0),
            "test": st.integers(0, 9).map(lambda n: n == 0),
            "changed": st.none() | st.floats(0, 1),
            "contact": st.integers(0, 3),
        }
    ),
    max_size=30,
)
windows = st.fixed_dictionaries(
    {
        "end": st.integers(0, SPAN + 7200),
        "length": st.integers(1, 2 * 24 * 3600) | st.sampled_from([3600, 86400]),
        "previous": st.booleans(),
        "aligned": st.booleans(),
        "timezone": st.sampled_from(["UTC", "Asia/Kolkata", "America/New_York"]),
    }
)
changes = st.fixed_dictionaries(
    {
        "paths": st.lists(st.sampled_from(PATHS), unique=True),
        "register_first": st.booleans(),
        "purge_before": st.none() | st.integers(0, SPAN),
        "erase": st.none() | st.integers(0, 3),
        "low": st.none() | st.integers(1, 5),
    }
)


def scale(survey: str, fraction: float) -> int:
    _, low, high = SURVEYS[survey]
    return low + round(fraction * (high - low))


def empty(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(delete(table))


def add_send(db: Database, i: int, row: dict[str, Any]) -> tuple[str, datetime]:
    at = T0 + timedelta(seconds=row["at"])
    metric = SURVEYS[row["survey"]][0]
    properties: dict[str, Any] = {"agent": row["agent"]}
    if row["team"] is not None:
        properties["team"] = row["team"]
    tables = SQLModel.metadata.tables
    contact = f"c{row['contact']}"
    with db.write() as conn:
        conn.execute(insert(tables["events"]).values(
            pk=f"e{i}", type=row["type"], contact_id=contact, occurred_at=at, received_at=at,
            properties=properties,
        ))  # fmt: skip
        conn.execute(insert(tables["sends"]).values(
            id=f"s{i}", event_pk=f"e{i}", trigger=f"t_{row['survey']}", survey=row["survey"],
            metric=metric, contact_id=contact, channel=row["channel"], status="delivered",
            due_at=at, created_at=at, updated_at=at, sent_at=at, test=row["test"],
            expires_at=at if row["late"] else None,
        ))  # fmt: skip
    return f"s{i}", at + timedelta(seconds=1) if row["late"] else at


def answer(db: Database, send_id: str, score: int, now: datetime) -> None:
    with db.write() as conn:
        found = load_send_answer(conn, send_id)
        assert found is not None
        record_response(conn, found, score=score, comment=None, now=now)


def register(db: Database, paths: list[str]) -> None:
    with db.write() as conn:
        sync_paths(conn, paths, T0)


def keyed(rows: list[Any]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    found = {}
    for r in rows:
        key = (r.survey, r.group_by, r.group, r.period)
        assert key not in found, f"two rows for {key}"
        found[key] = (r.metric, r.n, r.score_sum, r.top, r.middle, r.bottom, r.low)
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=responses, window=windows, change=changes)
def test_a_window_from_rollups_equals_the_raw_rows(
    database: Database, rows: list[dict[str, Any]], window: dict[str, Any], change: dict[str, Any]
) -> None:
    empty(database)
    if change["register_first"]:
        register(database, change["paths"])
    for i, row in enumerate(rows):
        send_id, now = add_send(database, i, row)
        answer(database, send_id, scale(row["survey"], row["score"]), now)
        if row["changed"] is not None:
            answer(database, send_id, scale(row["survey"], row["changed"]), now + timedelta(minutes=1))
    if not change["register_first"]:
        register(database, change["paths"])
    if change["erase"] is not None:
        with database.write() as conn:  # an erased event keeps only its agent
            erasure.erase_event_properties(
                conn, [f"c{change['erase']}"], lambda p: {k: v for k, v in p.items() if k == "agent"}
            )
    if change["purge_before"] is not None:
        cutoff = T0 + timedelta(seconds=change["purge_before"])
        with database.write() as conn:
            retention.purge_events(conn, cutoff=cutoff, now=T0 + timedelta(days=30), limit=10_000)

    end = T0 + timedelta(seconds=window["end"])
    if window["aligned"]:
        end = end.replace(minute=0, second=0)
    start = end - timedelta(seconds=window["length"])
    asked: dict[str, Any] = {
        "surveys": list(SURVEYS), "start": start, "end": end, "group_bys": EVERY_PATH,
        "previous_start": start - timedelta(seconds=window["length"]) if window["previous"] else None,
        "low_thresholds": {"support_csat": change["low"]} if change["low"] else None,
    }  # fmt: skip
    days = day_starts(start, end, ZoneInfo(window["timezone"]))
    by_day: dict[str, Any] = {"surveys": list(SURVEYS), "days": days, "end": end}
    with database.engine.connect() as conn:
        assert keyed(digest_metrics(conn, **asked)) == keyed(raw_digest_metrics(conn, **asked))
        assert sorted(map(repr, daily_series(conn, **by_day))) == sorted(
            map(repr, raw_daily_series(conn, **by_day))
        )


def test_rebuild_gives_the_rollups_the_writers_kept(database: Database) -> None:
    register(database, ["properties.team", "channel"])
    for i in range(12):
        row = {"survey": list(SURVEYS)[i % 3], "channel": "sms", "type": "t", "team": ["a", None][i % 2],
               "agent": "x", "at": i * 1000, "late": False, "test": False, "contact": i % 2}  # fmt: skip
        send_id, now = add_send(database, i, row)
        answer(database, send_id, 1 + i % 5, now)
        if i % 4 == 0:
            answer(database, send_id, 2, now)
    with database.engine.connect() as conn:
        kept = sorted(conn.execute(select(MetricRollup.__table__)).all())  # type: ignore[attr-defined]
    with database.write() as conn:
        rebuild_rollups(conn)
    with database.engine.connect() as conn:
        rebuilt = sorted(conn.execute(select(MetricRollup.__table__)).all())  # type: ignore[attr-defined]
    assert [r for r in kept if r.n] == rebuilt
    assert sum(r.n for r in rebuilt if r.path == "") == 12


def test_a_path_dropped_from_the_config_loses_its_rollups(database: Database) -> None:
    register(database, ["properties.team", "contact.locale"])
    row = {"survey": "support_csat", "channel": "sms", "type": "t", "team": "a", "agent": "x",
           "at": 0, "late": False, "test": False, "contact": 0}  # fmt: skip
    send_id, now = add_send(database, 0, row)
    answer(database, send_id, 5, now)
    with database.engine.connect() as conn:
        paths = {r.path for r in conn.execute(select(MetricRollup.__table__))}  # type: ignore[attr-defined]
    assert paths == {"", "properties.team"}  # contact paths follow the contact: never rolled up
    register(database, ["channel"])
    with database.engine.connect() as conn:
        paths = {r.path for r in conn.execute(select(MetricRollup.__table__))}  # type: ignore[attr-defined]
    assert paths == {"", "channel"}


def test_the_migration_builds_rollups_from_the_responses_already_stored(db_url: str) -> None:
    db = Database(db_url)
    cascade = "" if db.is_sqlite else " CASCADE"
    with db.engine.begin() as conn:  # start from an empty schema, not the fixture's tables
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}"' + cascade))
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(db, "0002")
    at = T0 + timedelta(minutes=30)
    tables = SQLModel.metadata.tables
    with db.engine.begin() as conn:
        for i, score in enumerate([5, 4, 1]):
            conn.execute(insert(tables["responses"]).values(
                send_id=f"s{i}", contact_id="c", survey="support_csat", metric="csat", channel="sms",
                score=score, counted=True, received_at=at, updated_at=at,
            ))  # fmt: skip
    upgrade(db)
    with db.engine.connect() as conn:
        rolled = conn.execute(select(MetricRollup.__table__)).one()  # type: ignore[attr-defined]
        window = {"surveys": ["support_csat"], "start": T0, "end": T0 + timedelta(days=1)}
        (row,) = digest_metrics(conn, **window)
    assert (rolled.hour, rolled.n, rolled.s5, rolled.s4, rolled.s1) == (T0, 3, 1, 1, 1)
    assert (row.n, row.top, row.low) == (3, 2, 1)
    db.dispose()
