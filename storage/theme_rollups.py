"""Theme rollups: counted responses per survey, UTC hour, metric and score, overall ('*'), with a
comment (''), and per theme keyword set: what `storage.metrics.comment_themes` counts.

Themes come from the config and may change, so a theme is kept by the key of its keyword set
(`theme_key`: renaming a theme changes nothing, changing its keywords makes a new key), and
registered in `rollup_themes`: `surveybot run` syncs them with the config (backfilling a new set
from every response, under a table lock, as `storage.rollups.sync_paths` does for paths) and
`surveybot rollups rebuild` recomputes them. A window asking for a theme not kept reads the rows.
Scores are kept, not "low", so each survey's own threshold is applied at reading time.

Writers shift them in their transactions, like the metric rollups: a response recorded or
changed (`storage.responses`), and comments emptied by erasure or retention (`responses_changing`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
)

from storage.group_paths import RESPONSES, SENDS
from storage.models import RollupTheme, ThemeRollup
from storage.rollups import Span, adding_upsert, hour_of, in_spans

THEME_ROLLUPS = ThemeRollup.__table__  # type: ignore[attr-defined]
THEMES = RollupTheme.__table__  # type: ignore[attr-defined]
EVERY = "*"  # every counted response
COMMENTED = ""  # those with a non-empty comment
_KEYS = ["survey", "hour", "metric", "theme", "score"]


@dataclass(frozen=True)
class ThemeTally:
    """Summed theme rollups of one survey, metric, theme (a key, '*' or '') and score."""

    survey: str
    metric: str
    theme: str
    score: int
    n: int


def theme_key(keywords: Iterable[str]) -> str:
    """The key a keyword set is kept under: the same for the same set, in any order."""
    text = json.dumps(sorted(set(keywords)), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def has_comment() -> ColumnElement[bool]:
    return and_(RESPONSES.c.comment.is_not(None), RESPONSES.c.comment != "")


def mentions(keywords: Sequence[str]) -> ColumnElement[bool]:
    """Comment holds any keyword, case-insensitively; `%` and `_` in keywords match themselves."""
    comment = RESPONSES.c.comment
    return or_(*[comment.ilike(f"%{_escape_like(k)}%", escape="\\") for k in keywords])


def _escape_like(keyword: str) -> str:
    return keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- reading ---------------------------------------------------------------------------------


def ready_themes(conn: Connection) -> dict[str, list[str]]:
    """The kept keyword sets, by key."""
    return {row.theme: list(row.keywords) for row in conn.execute(select(THEMES.c.theme, THEMES.c.keywords))}


def read_themes(
    conn: Connection, *, surveys: Sequence[str], spans: Sequence[Span], themes: Sequence[str]
) -> list[ThemeTally]:
    """Summed tallies per survey, metric, theme and score over hour-aligned spans; `themes` are
    keys (with '*' and '' always read)."""
    if not spans:
        return []
    t = THEME_ROLLUPS.c
    within, _ = in_spans(t.hour, spans)
    query = (
        select(t.survey, t.metric, t.theme, t.score, func.sum(t.n).label("n"))
        .where(t.survey.in_(surveys), t.theme.in_([EVERY, COMMENTED, *themes]), within)
        .group_by(t.survey, t.metric, t.theme, t.score)
        .having(func.sum(t.n) != 0)
    )
    return [ThemeTally(r.survey, r.metric, r.theme, int(r.score), int(r.n)) for r in conn.execute(query)]


# --- keeping them in step --------------------------------------------------------------------


def shift_themes(conn: Connection, responses: ColumnElement[bool], *, sign: int, every: bool = True) -> None:
    """Add (`sign=1`) or take out (`sign=-1`) the counted responses matching `responses` in
    every kept tally ('*' too unless `every` is False: a comment's change leaves it alone)."""
    conn.execute(_upsert(conn, _aggregate(conn, ready_themes(conn), responses, sign, every)))


@contextmanager
def responses_changing(conn: Connection, responses: ColumnElement[bool]) -> Iterator[None]:
    """Around a change to these responses' comments: out before, back in after. On PostgreSQL
    their sends are locked first, as `storage.send_rollups.sends_changing` (which every
    `record_response` goes through) locks them: a reply racing an erasure waits for it."""
    if conn.dialect.name == "postgresql":
        theirs = select(RESPONSES.c.send_id).where(responses).scalar_subquery()
        conn.execute(select(SENDS.c.id).where(SENDS.c.id.in_(theirs)).order_by(SENDS.c.id).with_for_update())
    shift_themes(conn, responses, sign=-1, every=False)
    yield
    shift_themes(conn, responses, sign=1, every=False)


def sync_themes(
    conn: Connection, wanted: Iterable[Sequence[str]], now: datetime
) -> tuple[list[str], list[str]]:
    """Keep tallies for exactly the `wanted` keyword sets: backfill new ones from every
    response, drop the rest. Returns the keys (added, dropped); nothing locked when nothing changes."""
    want = {theme_key(keywords): sorted(set(keywords)) for keywords in wanted if keywords}
    if set(ready_themes(conn)) == set(want):
        return [], []
    _lock_themes(conn)
    have = set(ready_themes(conn))
    added, dropped = sorted(set(want) - have), sorted(have - set(want))
    if dropped:
        conn.execute(delete(THEME_ROLLUPS).where(THEME_ROLLUPS.c.theme.in_(dropped)))
        conn.execute(delete(THEMES).where(THEMES.c.theme.in_(dropped)))
    for key in added:
        conn.execute(insert(THEMES).values(theme=key, keywords=want[key], built_at=now))
    if added:
        kept = {key: want[key] for key in added}
        conn.execute(_upsert(conn, _aggregate(conn, kept, true(), 1, every=False, commented=False)))
    return added, dropped


def rebuild_theme_rollups(conn: Connection) -> int:
    """Recompute every kept tally from the responses; the rollup rows written."""
    _lock_themes(conn)
    conn.execute(delete(THEME_ROLLUPS))
    shift_themes(conn, true(), sign=1)
    return int(conn.execute(select(func.count()).select_from(THEME_ROLLUPS)).scalar_one())


def _lock_themes(conn: Connection) -> None:
    """As `storage.rollups._lock_paths`: writers that read the theme list finish first, and new
    ones wait for this transaction, so a backfill misses no response and counts none twice."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"LOCK TABLE {THEMES.name} IN ACCESS EXCLUSIVE MODE")


def _aggregate(
    conn: Connection,
    themes: Mapping[str, Sequence[str]],
    responses: ColumnElement[bool],
    sign: int,
    every: bool,
    commented: bool = True,
) -> Select[Any]:
    """(survey, hour, metric, theme, score, ±count) of the matching counted responses."""
    r = RESPONSES.c
    hour = hour_of(r.received_at, conn.dialect.name)
    matches: list[tuple[str, ColumnElement[bool]]] = [(EVERY, true())] if every else []
    matches += [(COMMENTED, has_comment())] if commented else []
    matches += [(key, mentions(keywords)) for key, keywords in themes.items()]
    parts = [
        select(r.survey, hour.label("hour"), r.metric, literal(key).label("theme"), r.score)
        .where(r.counted == true(), responses, match)
        for key, match in matches
    ]  # fmt: skip
    rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    times: ColumnElement[int] = literal_column(str(int(sign)), Integer())
    keys = [rows.c[name] for name in _KEYS]
    return select(*keys, (times * func.count()).label("n")).where(rows.c.survey.is_not(None)).group_by(*keys)


def _upsert(conn: Connection, rows: Select[Any]) -> Any:
    return adding_upsert(conn.dialect.name, THEME_ROLLUPS, _KEYS, ["n"], rows, ["n"])
