"""Metric rollups: counted responses per survey, UTC hour and group, kept in step with the rows.

A digest over a big window reads the whole hours inside it from `metric_rollups` and only the
partial hours at its edges from the responses (see `storage.metrics.digest_metrics`), so its
numbers are exactly the raw rows' numbers at a fraction of the cost.

Every change to what the raw-row aggregates would see goes through `shift_rollups` in the same
transaction: take the affected responses out (`sign=-1`) before the change, put them back in
(`sign=+1`) after it. The writers: a response recorded or its score changed
(`storage.responses`), an event purged by retention (its properties' groups become None) and an
erased event's properties (`storage.erasure`). The survey overall (path '') is always kept; a
group-by path only once it is registered in `rollup_paths` (`sync_paths` backfills it).
`contact.locale` / `contact.timezone` follow the contact's current row, which every ingested
event may overwrite, so they are never rolled up: breakdowns by them read the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    Text,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import cast

from storage.group_paths import RESPONSES, SENDS, group_key, joined_source
from storage.models import MetricRollup, RollupPath

ROLLUPS = MetricRollup.__table__  # type: ignore[attr-defined]
PATHS = RollupPath.__table__  # type: ignore[attr-defined]
OVERALL = ""
SCORES = range(11)
HOUR = timedelta(hours=1)
_SUMS = ("n", "score_sum", *(f"s{k}" for k in SCORES))
_UNROLLED_ROOTS = ("contact",)


@dataclass(frozen=True)
class Span:
    """A half-open stretch of time `[start, end)` that counts toward `period`."""

    start: datetime
    end: datetime
    period: str


@dataclass(frozen=True)
class RollupCounts:
    """Summed rollups of one survey, path, group and period: n, score sum and the histogram."""

    survey: str
    metric: str
    path: str | None
    group: str | None
    period: str
    n: int
    score_sum: int
    histogram: tuple[int, ...]


def can_roll_up(path: str) -> bool:
    """Paths whose value is fixed once the response exists (up to the writers above)."""
    return path.partition(".")[0] not in _UNROLLED_ROOTS


# --- reading ---------------------------------------------------------------------------------


def ready_paths(conn: Connection) -> set[str]:
    return {row[0] for row in conn.execute(select(PATHS.c.path))}


def split_spans(spans: Iterable[Span]) -> tuple[list[Span], list[Span]]:
    """(whole UTC hours, partial-hour edges) covering exactly the given spans."""
    whole, edges = [], []
    for span in spans:
        first, last = _ceil_hour(span.start), _floor_hour(span.end)
        if first >= last:
            edges.append(span)
            continue
        whole.append(Span(first, last, span.period))
        edges += [Span(a, b, span.period) for a, b in ((span.start, first), (last, span.end)) if a < b]
    return whole, edges


def read_rollups(
    conn: Connection, *, surveys: Sequence[str], spans: Sequence[Span], paths: Sequence[str | None]
) -> list[RollupCounts]:
    """Summed rollups per survey, path (None: overall), group and period over hour-aligned spans."""
    if not spans or not paths:
        return []
    r = ROLLUPS.c
    within, period = in_spans(r.hour, spans)
    stored = [OVERALL if p is None else p for p in paths]
    query = (
        select(
            r.survey, func.min(r.metric).label("metric"), r.path, r.grp, period.label("period"),
            *[func.sum(r[name]).label(name) for name in _SUMS],
        )
        .where(r.survey.in_(surveys), r.path.in_(stored), within)
        .group_by(r.survey, r.path, r.grp, period)
        .having(func.sum(r.n) > 0)
    )  # fmt: skip
    return [
        RollupCounts(
            survey=row.survey,
            metric=row.metric,
            path=None if row.path == OVERALL else row.path,
            group=None if row.grp == "" else row.grp[1:],
            period=row.period,
            n=int(row.n),
            score_sum=int(row.score_sum),
            histogram=tuple(int(row._mapping[f"s{k}"]) for k in SCORES),
        )
        for row in conn.execute(query)
    ]


# --- keeping them in step --------------------------------------------------------------------


def shift_rollups(
    conn: Connection,
    responses: ColumnElement[bool],
    *,
    sign: int,
    only: Callable[[str | None], bool] = lambda path: True,
) -> None:
    """Add (`sign=1`) or take out (`sign=-1`) the counted responses matching `responses` (a
    condition on the responses table) in every kept path (those `only` admits)."""
    paths = [path for path in [None, *sorted(ready_paths(conn))] if only(path)]
    for path in paths:
        conn.execute(_upsert(conn, _aggregate(conn, path, responses, sign)))


def _reads_events(path: str | None) -> bool:
    return path is not None and path.partition(".")[0] in ("properties", "type")


@contextmanager
def events_changing(conn: Connection, event_pks: Sequence[str]) -> Iterator[None]:
    """Around a change to these events (properties rewritten, rows deleted): their responses
    leave the rollups before it and come back, in their new groups, after it."""
    sends = select(SENDS.c.id).where(SENDS.c.event_pk.in_(event_pks))
    theirs = RESPONSES.c.send_id.in_(sends.scalar_subquery())
    shift_rollups(conn, theirs, sign=-1, only=_reads_events)
    yield
    shift_rollups(conn, theirs, sign=1, only=_reads_events)


def sync_paths(conn: Connection, wanted: Iterable[str], now: datetime) -> tuple[list[str], list[str]]:
    """Keep rollups for exactly the `wanted` paths (those `can_roll_up`): backfill new ones from
    every response, drop the rest. Returns (added, dropped); nothing locked when nothing changes."""
    want = {p for p in wanted if can_roll_up(p)}
    for path in want:
        group_key(path, conn.dialect.name)  # a bad path fails here, before anything is written
    if ready_paths(conn) == want:
        return [], []
    _lock_paths(conn)
    have = ready_paths(conn)
    added, dropped = sorted(want - have), sorted(have - want)
    if dropped:
        conn.execute(delete(ROLLUPS).where(ROLLUPS.c.path.in_(dropped)))
        conn.execute(delete(PATHS).where(PATHS.c.path.in_(dropped)))
    for path in added:
        conn.execute(insert(PATHS).values(path=path, built_at=now))
        conn.execute(_upsert(conn, _aggregate(conn, path, true(), 1)))
    return added, dropped


def rebuild_rollups(conn: Connection) -> int:
    """Recompute every kept rollup from the responses; the rollup rows written."""
    _lock_paths(conn)
    conn.execute(delete(ROLLUPS))
    for path in [None, *sorted(ready_paths(conn))]:
        conn.execute(_upsert(conn, _aggregate(conn, path, true(), 1)))
    return int(conn.execute(select(func.count()).select_from(ROLLUPS)).scalar_one())


def rebuild_every_rollup(conn: Connection) -> int:
    """The metric, send, hold and theme rollups all recomputed from the rows; rows written."""
    from storage.hold_rollups import rebuild_hold_rollups  # they build on this module
    from storage.send_rollups import rebuild_send_rollups
    from storage.theme_rollups import rebuild_theme_rollups

    rebuilt = [rebuild_rollups, rebuild_send_rollups, rebuild_hold_rollups, rebuild_theme_rollups]
    return sum(rebuild(conn) for rebuild in rebuilt)


def _lock_paths(conn: Connection) -> None:
    """On PostgreSQL, wait for every writer that read the path list to commit, and keep new ones
    out until this transaction commits: a backfill then sees every response, and no response
    is counted twice. (SQLite's writers are one at a time already.)"""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"LOCK TABLE {PATHS.name} IN ACCESS EXCLUSIVE MODE")


def _aggregate(conn: Connection, path: str | None, responses: ColumnElement[bool], sign: int) -> Select[Any]:
    dialect = conn.dialect.name
    key, needs = group_key(path, dialect)
    # Constants are inlined: PostgreSQL must see the same text in SELECT and GROUP BY.
    empty: ColumnElement[str] = literal_column("''", Text())
    grp = (
        empty
        if path is None
        else case((key.is_(None), empty), else_=literal_column("'='", Text()).op("||")(cast(key, Text())))
    )
    keys = [] if path is None else [grp]  # PostgreSQL refuses a constant in GROUP BY
    hour = _hour(dialect)
    r = RESPONSES.c
    times: ColumnElement[int] = literal_column(str(int(sign)), Integer())
    counts: list[ColumnElement[Any]] = [func.count(), func.sum(r.score)]
    counts += [func.sum(case((r.score == k, 1), else_=0)) for k in SCORES]
    return (
        select(
            r.survey, literal(OVERALL if path is None else path).label("path"), hour.label("hour"),
            grp.label("grp"), func.min(r.metric).label("metric"),
            *[(times * c).label(name) for c, name in zip(counts, _SUMS, strict=True)],
        )
        .select_from(joined_source(set(needs)))
        .where(r.counted == true(), responses)
        .group_by(r.survey, hour, *keys)
        .order_by(r.survey, hour, *keys)
    )  # fmt: skip


def _upsert(conn: Connection, rows: Select[Any]) -> Any:
    """INSERT ... SELECT that adds into existing rollup rows."""
    return adding_upsert(
        conn.dialect.name, ROLLUPS, ["survey", "path", "hour", "grp"], ["metric", *_SUMS], rows, _SUMS
    )


def adding_upsert(
    dialect: str,
    table: Any,
    keys: Sequence[str],
    values: Sequence[str],
    rows: Select[Any] | None,
    sums: Sequence[str],
) -> Any:
    """INSERT (... SELECT `rows`, or the parameters given at execution) into a rollup `table`
    whose primary key is `keys`: a row already there gets the `sums` columns added to."""
    make: Callable[..., Any] = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = make(table)
    if rows is not None:
        statement = statement.from_select([*keys, *values], rows)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: table.c[name] + statement.excluded[name] for name in sums}
    )


def _hour(dialect: str) -> ColumnElement[Any]:
    """The UTC hour a response was received in, as the dialect stores a time."""
    return hour_of(RESPONSES.c.received_at, dialect)


def hour_of(moment: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The UTC hour of a stored time column, as the dialect stores a time."""
    return _truncated(moment, dialect, "hour", 13, ":00:00.000000")


def day_of(moment: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The UTC day of a stored time column, as the dialect stores a time."""
    return _truncated(moment, dialect, "day", 10, " 00:00:00.000000")


def _truncated(
    moment: ColumnElement[Any], dialect: str, unit: str, kept: int, rest: str
) -> ColumnElement[Any]:
    if dialect == "postgresql":
        utc: ColumnElement[str] = literal_column("'UTC'", Text())
        return func.timezone(utc, func.date_trunc(literal_column(f"'{unit}'"), func.timezone(utc, moment)))
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' (see storage.models.UTCDateTime): keep the first
    # `kept` characters, the rest of the text is `rest`.
    return func.substr(moment, 1, kept).op("||")(literal_column(f"'{rest}'"))


def in_spans(
    moment: ColumnElement[Any], spans: Sequence[Span]
) -> tuple[ColumnElement[bool], ColumnElement[str]]:
    """(the time falls in one of the spans, the period of the span it falls in)."""
    period = case(*[(and_(moment >= s.start, moment < s.end), s.period) for s in spans])
    return or_(*[and_(moment >= s.start, moment < s.end) for s in spans]), period


def floor_hour(moment: datetime) -> datetime:
    """The UTC hour `moment` falls in."""
    return _floor_hour(moment)


def _floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floor = _floor_hour(moment)
    return floor if floor == moment else floor + HOUR
