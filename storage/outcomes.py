"""Keeping outcomes in step: each send's follow-up per outcome, their rollups, churn's customers.

Writers, each in the transaction of the change it follows:
- `keep_events`: ingestion's events whose type an outcome watches are copied to
  `outcome_events`; an outcome event marks every follow-up of its contact it falls in
  (`since < occurred_at <= until`) and did not have an earlier one: a late event counts when it
  comes in. Churn's start and churn events move the contact's row in `churn_contacts`.
- `follow_send`: a send that left is followed as "not answered" from the time it left.
- `follow_answer`: a counted response replaces that with its score, followed from its time.
- `unfollow`: an undelivered send that its fallback replaced is no longer followed (the
  fallback is, once it leaves), so one survey is one follow-up.
- `rebuild_outcomes`: everything again from the kept events, sends and responses, when the
  definitions change (`sync_outcomes` at start-up) or by hand (`surveybot rollups rebuild`).
Retention and erasure leave these tables alone: they hold no personal data (docs/outcomes.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
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
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from storage.bulk import bulk_insert
from storage.group_paths import RESPONSES, SENDS
from storage.models import (
    SEND_LEFT,
    ChurnContact,
    Event,
    OutcomeDefinition,
    OutcomeEvent,
    OutcomeLink,
    OutcomeRollup,
)
from storage.rollups import adding_upsert, day_of
from triggers.follow_ups import CHURN, FollowUp

EVENTS = OutcomeEvent.__table__  # type: ignore[attr-defined]
LINKS = OutcomeLink.__table__  # type: ignore[attr-defined]
ROLLUPS = OutcomeRollup.__table__  # type: ignore[attr-defined]
CHURN_CONTACTS = ChurnContact.__table__  # type: ignore[attr-defined]
DEFINITIONS = OutcomeDefinition.__table__  # type: ignore[attr-defined]
ALL_EVENTS = Event.__table__  # type: ignore[attr-defined]
NO_ANSWER = -1  # the score of a send followed while it has no counted response


@dataclass(frozen=True)
class Followed:
    """A send to follow: answered with `score` at `since`, or NO_ANSWER from when it left."""

    send_id: str
    survey: str
    contact_id: str
    score: int
    since: datetime


# --- events ------------------------------------------------------------------------------------


def keep_events(conn: Connection, events: Sequence[Mapping[str, Any]], defs: Sequence[FollowUp]) -> int:
    """Ingestion's hook: `events` are the rows just inserted into `events` (pk, type,
    contact_id, occurred_at). Keeps those an outcome watches and counts them; returns how many."""
    if not defs:
        return 0
    watched = {kind for d in defs for kind in d.watched_types()}
    kept = [e for e in events if e["type"] in watched]
    if not kept:
        return 0
    bulk_insert(conn, EVENTS, [_kept_row(e) for e in kept])
    for d in defs:
        for e in kept:
            if e["type"] == d.on:
                reach(conn, d.name, e["contact_id"], e["occurred_at"])
    churn = next((d for d in defs if d.name == CHURN), None)
    if churn is not None:
        for e in kept:
            if e["type"] in churn.watched_types():
                mark_customer(conn, e["contact_id"], e["occurred_at"], churned=e["type"] == churn.on)
    return len(kept)


def _kept_row(event: Mapping[str, Any]) -> dict[str, Any]:
    return {"event_pk": event["pk"], "contact_id": event["contact_id"], "type": event["type"],
            "occurred_at": event["occurred_at"]}  # fmt: skip


def reach(conn: Connection, outcome: str, contact_id: str, at: datetime) -> None:
    """An `outcome` event of the contact at `at`: the follow-ups it falls in have it (the first
    one, if an earlier one came in before), and those that had none count as done."""
    l_ = LINKS.c
    within = and_(l_.outcome == outcome, l_.contact_id == contact_id, l_.since < at, l_.until >= at)
    conn.execute(_upsert(conn, _counts(conn, and_(within, l_.first_at.is_(None)), reached=True)))
    conn.execute(
        update(LINKS).where(within, or_(l_.first_at.is_(None), l_.first_at > at)).values(first_at=at)
    )


def mark_customer(conn: Connection, contact_id: str, at: datetime, *, churned: bool) -> None:
    """The contact's first start (churn's `base`) or first churn event moves to `at` if earlier."""
    column = "churned_at" if churned else "started_at"
    make: Any = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = make(CHURN_CONTACTS).values(contact_id=contact_id, **{column: at})
    stored, given = CHURN_CONTACTS.c[column], statement.excluded[column]
    earlier = case((or_(stored.is_(None), given < stored), given), else_=stored)
    conn.execute(statement.on_conflict_do_update(index_elements=["contact_id"], set_={column: earlier}))


# --- sends and answers -------------------------------------------------------------------------


def follow_send(conn: Connection, send_id: str, defs: Sequence[FollowUp]) -> None:
    """The dispatcher's hook, once a send left: followed as not answered from `sent_at`."""
    if not defs:
        return
    s = SENDS.c
    row = conn.execute(
        select(s.id, s.survey, s.contact_id, s.sent_at).where(s.id == send_id, s.test == false())
    ).first()
    if row is not None and row.sent_at is not None:
        relink(conn, [Followed(row.id, row.survey, row.contact_id, NO_ANSWER, row.sent_at)], defs)


def follow_answer(conn: Connection, send_id: str, defs: Sequence[FollowUp]) -> None:
    """The recorder's hook, once a response was recorded or changed: a counted one is followed
    with its score from when it came."""
    if not defs:
        return
    r = RESPONSES.c
    row = conn.execute(
        select(r.send_id, r.survey, r.contact_id, r.score, r.received_at).where(
            r.send_id == send_id, r.counted == true()
        )
    ).first()
    if row is not None:
        relink(conn, [Followed(row.send_id, row.survey, row.contact_id, row.score, row.received_at)], defs)


def unfollow(conn: Connection, send_ids: Sequence[str]) -> None:
    """`send_ids` followed no more, for any outcome: out of the rollups and the follow-ups."""
    theirs = LINKS.c.send_id.in_(list(send_ids))
    conn.execute(_upsert(conn, _counts(conn, theirs, sign=-1)))
    conn.execute(delete(LINKS).where(theirs))


def relink(conn: Connection, sends: Sequence[Followed], defs: Sequence[FollowUp]) -> None:
    """Follow `sends` afresh for every outcome: out of the rollups, rewritten, looked up in the
    kept events, back in."""
    unfollow(conn, [s.send_id for s in sends])
    theirs = LINKS.c.send_id.in_([s.send_id for s in sends])
    rows = [
        {"send_id": s.send_id, "outcome": d.name, "survey": s.survey, "contact_id": s.contact_id,
         "score": s.score, "since": s.since, "until": s.since + d.within, "first_at": None}
        for s in sends for d in defs
    ]  # fmt: skip
    bulk_insert(conn, LINKS, rows)
    for d in defs:
        _find_first(conn, d, theirs)
    conn.execute(_upsert(conn, _counts(conn, theirs, sign=1)))


def _find_first(conn: Connection, d: FollowUp, links: ColumnElement[bool]) -> None:
    """Set `first_at` of the outcome's `links` from the kept events."""
    l_, e = LINKS.c, EVENTS.c
    first = (
        select(func.min(e.occurred_at))
        .where(
            e.contact_id == l_.contact_id, e.type == d.on, e.occurred_at > l_.since, e.occurred_at <= l_.until
        )
        .scalar_subquery()
    )
    conn.execute(update(LINKS).where(links, l_.outcome == d.name).values(first_at=first))


# --- rollups -----------------------------------------------------------------------------------


def _counts(
    conn: Connection, links: ColumnElement[bool], *, sign: int = 1, reached: bool = False
) -> Select[Any]:
    """Per outcome, survey, UTC day of `since` and score: `sign` times how many `links` and how many
    of them had the outcome; with `reached`, none more followed and every one of them had it."""
    l_ = LINKS.c
    day = day_of(l_.since, conn.dialect.name)
    times = literal_column(str(sign), Integer())
    n = literal_column("0", Integer()) if reached else times * func.count()
    done = times * (func.count() if reached else func.count(l_.first_at))
    return (
        select(l_.outcome, l_.survey, day.label("day"), l_.score, n.label("n"), done.label("done"))
        .where(links)
        .group_by(l_.outcome, l_.survey, day, l_.score)
    )


def _upsert(conn: Connection, rows: Select[Any]) -> Any:
    return adding_upsert(
        conn.dialect.name, ROLLUPS, ["outcome", "survey", "day", "score"], ["n", "done"], rows, ["n", "done"]
    )


# --- rebuilding --------------------------------------------------------------------------------


def definition_text(d: FollowUp) -> str:
    return f"on={d.on};within={int(d.within.total_seconds())};base={','.join(d.base)}"


def sync_outcomes(conn: Connection, defs: Sequence[FollowUp], now: datetime) -> bool:
    """Rebuild when the stored definitions differ from `defs`; True when it did."""
    stored = {row.name: row.definition for row in conn.execute(select(DEFINITIONS))}
    if stored == {d.name: definition_text(d) for d in defs}:
        return False
    rebuild_outcomes(conn, defs, now)
    return True


def rebuild_outcomes(conn: Connection, defs: Sequence[FollowUp], now: datetime) -> int:
    """Everything again: kept events topped up from the events still stored, every send that
    left followed for every outcome, rollups and churn's customers recounted. Follow-ups made."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"LOCK TABLE {DEFINITIONS.name} IN ACCESS EXCLUSIVE MODE")
    _top_up_events(conn, {kind for d in defs for kind in d.watched_types()})
    for table in (LINKS, ROLLUPS, CHURN_CONTACTS, DEFINITIONS):
        conn.execute(delete(table))
    for d in defs:
        conn.execute(insert(LINKS).from_select(_LINK_COLUMNS, _sends_followed(conn, d)))
        _find_first(conn, d, true())
        conn.execute(insert(DEFINITIONS).values(name=d.name, definition=definition_text(d), built_at=now))
    conn.execute(_upsert(conn, _counts(conn, true())))
    churn = next((d for d in defs if d.name == CHURN), None)
    if churn is not None:
        conn.execute(
            insert(CHURN_CONTACTS).from_select(["contact_id", "started_at", "churned_at"], _customers(churn))
        )
    return int(conn.execute(select(func.count()).select_from(LINKS)).scalar_one())


_LINK_COLUMNS = ["send_id", "outcome", "survey", "contact_id", "score", "since", "until"]


def _top_up_events(conn: Connection, types: Iterable[str]) -> None:
    """Copy the stored events of `types` not kept yet. The key's conflict skips those kept (a
    NOT EXISTS on the table being filled can make PostgreSQL rescan it for every row)."""
    e = ALL_EVENTS.c
    watched = select(e.pk, e.contact_id, e.type, e.occurred_at).where(e.type.in_(sorted(types)))
    make: Any = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = make(EVENTS).from_select(["event_pk", "contact_id", "type", "occurred_at"], watched)
    conn.execute(statement.on_conflict_do_nothing(index_elements=["event_pk"]))


def _sends_followed(conn: Connection, d: FollowUp) -> Select[Any]:
    """Every send that left and no fallback replaced, as a follow-up of `d`: its counted
    response's score and time, or NO_ANSWER from when it left."""
    s, r, replacing = SENDS.c, RESPONSES.c, SENDS.alias("replacing").c
    since = func.coalesce(r.received_at, s.sent_at)
    score = func.coalesce(r.score, literal(NO_ANSWER, Integer()))
    answered = and_(r.send_id == s.id, r.counted == true())
    return (
        select(s.id, literal(d.name, Text()), s.survey, s.contact_id, score, since,
               _plus_seconds(conn, since, int(d.within.total_seconds())))
        .select_from(SENDS.outerjoin(RESPONSES, answered))
        .where(s.sent_at.is_not(None), s.test == false(), s.status.in_(SEND_LEFT),
               ~exists().where(replacing.fallback_of == s.id))
    )  # fmt: skip


def _plus_seconds(conn: Connection, moment: ColumnElement[Any], seconds: int) -> ColumnElement[Any]:
    """`moment` + whole seconds, stored as the dialect stores a time (microseconds kept)."""
    if conn.dialect.name == "postgresql":
        return moment + literal_column(f"interval '{seconds} seconds'")
    # strftime keeps milliseconds; the last three digits of the microseconds are carried over.
    shifted = func.strftime("%Y-%m-%d %H:%M:%f", moment, f"+{seconds} seconds")
    return shifted.op("||")(func.substr(moment, 24, 3))


def _customers(churn: FollowUp) -> Select[Any]:
    e = EVENTS.c
    started = func.min(case((e.type.in_(churn.base), e.occurred_at)))
    churned = func.min(case((e.type == churn.on, e.occurred_at)))
    return (
        select(e.contact_id, started, churned)
        .where(e.type.in_(sorted(churn.watched_types())))
        .group_by(e.contact_id)
    )
