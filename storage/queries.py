"""Named queries for taking events in: locks, look-ups in bulk, and bulk writes (the batch's
event, send and decision rows are made in `storage.intake`).

Everything here works per batch, never per row: one query loads the history of every contact
in a batch, one statement cancels every send it calls off.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import orjson
from psycopg import adapters, postgres
from psycopg.adapt import Dumper
from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    Select,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import NullType

from storage.bulk import insert_values
from storage.models import (
    SEND_COUNTED,
    SEND_PENDING,
    Contact,
    DailyCount,
    Decision,
    Event,
    OptOut,
    Send,
    SendStatus,
    Setting,
)
from triggers.engine import PendingSend
from triggers.events import ContactIn
from triggers.policy import PastSend, PolicyState
from triggers.rules import cancel_key
from triggers.settings import TriggerConfig

contacts_t = Contact.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
decisions_t = Decision.__table__  # type: ignore[attr-defined]
opt_outs_t = OptOut.__table__  # type: ignore[attr-defined]
settings_t = Setting.__table__  # type: ignore[attr-defined]
daily_counts_t = DailyCount.__table__  # type: ignore[attr-defined]


def lock_keys(conn: Connection, names: Iterable[str]) -> None:
    """On PostgreSQL, serialize work on the same contacts and event ids across processes.

    Transaction-scoped advisory locks, always taken in sorted order so two batches cannot
    deadlock. SQLite needs none: `BEGIN IMMEDIATE` already serializes writers.
    """
    if conn.dialect.name != "postgresql":
        return
    keys = sorted({_lock_key(name) for name in names})
    if keys:
        # The keys as one array text, and one row back, not one a key (see `TextArray`).
        conn.execute(_LOCK_IN_ORDER, {"keys": "{" + ",".join(map(str, keys)) + "}"})


_LOCK_IN_ORDER = text(
    "SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS BIGINT[])) AS k "
    "ORDER BY k) AS locked"
)


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def one_of(dialect: str, column: Any, name: str) -> ColumnElement[bool]:
    """`column IN :name`, the values passed as ONE parameter (`listed`): a JSON array on SQLite,
    an array on PostgreSQL. Where `in_` renders a parameter per value on every call (which at a
    thousand values costs more than the query), a statement built with this once per dialect
    (`_per_dialect`) is compiled once and takes any number of values."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=NullType()))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(name))))


def listed(conn: Connection, values: Iterable[str]) -> str:
    """The values of a `one_of` parameter, as the connection's database reads them."""
    if conn.dialect.name == "postgresql":
        return TextArray(values)
    return orjson.dumps(list(values)).decode()


def _per_dialect(build: Callable[[str], Executable]) -> Callable[[Connection], Executable]:
    """A statement built once for each dialect it is asked for: SQLAlchemy keeps the compiled
    form of a statement object it has seen, so a look-up made per batch costs no building,
    walking or cache-key work, which for a batch of one event cost more than the query."""
    built = functools.cache(build)
    return lambda conn: built(conn.dialect.name)


class TextArray(str):
    """A `text[]` parameter, written out by us as PostgreSQL reads one: `{"a","b \\"c\\""}`.

    psycopg writes a list parameter out element by element in Python, which at a thousand ids
    cost more than the query (a tenth of ingesting a batch); this is one join, and the server
    gets the same `text[]` (so the same plans) as from a list. Every element is quoted, with
    backslash and double quote escaped, so any text (no NUL: events refuse it) stays itself."""

    def __new__(cls, values: Iterable[str]) -> TextArray:
        return super().__new__(cls, "{" + ",".join(f'"{_escaped(value)}"' for value in values) + "}")


def _escaped(value: str) -> str:
    if "\\" in value or '"' in value:
        return value.replace("\\", "\\\\").replace('"', '\\"')
    return value


class _TextArrayDumper(Dumper):
    oid = postgres.types["text"].array_oid

    def dump(self, obj: Any) -> bytes:
        return str(obj).encode()


adapters.register_dumper(TextArray, _TextArrayDumper)


def existing_event_ids(conn: Connection, event_ids: Sequence[str]) -> set[str]:
    if not event_ids:
        return set()
    rows = conn.execute(_EXISTING_EVENT_IDS(conn), {"ids": listed(conn, event_ids)})
    return {row[0] for row in rows}


_EXISTING_EVENT_IDS = _per_dialect(
    lambda dialect: select(events_t.c.event_id).where(one_of(dialect, events_t.c.event_id, "ids"))
)


def load_contacts(conn: Connection, contact_ids: Sequence[str]) -> dict[str, ContactIn]:
    rows = conn.execute(_CONTACTS(conn), {"ids": listed(conn, contact_ids)})
    return {row.id: ContactIn(*row) for row in rows}


_CONTACTS = _per_dialect(
    lambda dialect: select(*(contacts_t.c[name] for name in ContactIn._fields)).where(
        one_of(dialect, contacts_t.c.id, "ids")
    )
)


def upsert_contacts(
    conn: Connection, contacts: Iterable[ContactIn], *, known: set[str], now: datetime
) -> None:
    """Insert new contacts and overwrite known ones with their merged values."""
    new: list[tuple[Any, ...]] = []
    changed = []
    for c in contacts:
        if c.id not in known:
            new.append((c.id, c.email, c.phone, c.name, c.timezone, c.locale, now, now))
            continue
        changed.append(
            {
                "b_id": c.id,
                "email": c.email,
                "phone": c.phone,
                "name": c.name,
                "timezone": c.timezone,
                "locale": c.locale,
                "updated_at": now,
            }
        )
    insert_values(conn, contacts_t, _CONTACT_COLUMNS, new)
    if changed:
        c = contacts_t.c
        statement = (
            update(contacts_t)
            .where(c.id == bindparam("b_id"))
            .values(
                {
                    name: bindparam(name)
                    for name in ("email", "phone", "name", "timezone", "locale", "updated_at")
                }
            )
        )
        conn.execute(statement, changed)


_CONTACT_COLUMNS = ("id", "email", "phone", "name", "timezone", "locale", "created_at", "updated_at")
# However loose the policy, the gates judge a contact's new send against at most this many of
# its sends (the latest within the window): one contact's flood cannot make every batch that
# mentions it read, and compare with, its whole history.
MAX_HISTORY_PER_CONTACT = 500


def load_policy_state(
    conn: Connection,
    *,
    contact_ids: Sequence[str],
    window: tuple[datetime, datetime] | None,
    address_keys: Sequence[str],
    per_contact: int = MAX_HISTORY_PER_CONTACT,
) -> PolicyState:
    """The sends that count against the policy for these contacts (those due within `window`,
    at most `per_contact` each, the latest first; none without a window), their opt-outs,
    daily totals."""
    state = PolicyState()
    if window is not None and contact_ids:
        rows = list(_recent_sends(conn, contact_ids, window, per_contact))
        # A send and its fallback are one survey: the fallback counts, the send it replaced not.
        replaced = {row.fallback_of for row in rows if row.fallback_of}
        for row in rows:
            if (
                row.status in SEND_COUNTED and not row.test and row.id not in replaced
            ):  # a test send counts against nothing
                state.sends[row.contact_id].append(PastSend(row.survey, row.due_at))
    state.opted_out = opted_out_keys(conn, address_keys)
    state.daily_counts = DailyCounts(lambda day: daily_count(conn, day))
    return state


def _recent_sends(
    conn: Connection, contact_ids: Sequence[str], window: tuple[datetime, datetime], per_contact: int
) -> Iterable[Any]:
    since, until = window
    parameters = {
        "ids": listed(conn, contact_ids),
        "since": since,
        "until": until,
        "per_contact": per_contact,
    }
    return conn.execute(_RECENT_SENDS(conn), parameters)


def _recent_sends_query(dialect: str) -> Select[Any]:
    s = sends_t.c
    # The status is filtered by the caller, not in SQL: with it in the WHERE clause SQLite (no
    # statistics) prefers the (status, due_at) index for a batch of many contacts and scans every
    # recent send of everyone; 0.7 s a batch with 5 million sends, against 20 ms by the contact
    # index, which also hands the window function its rows in order.
    latest_first = func.row_number().over(partition_by=s.contact_id, order_by=s.due_at.desc()).label("nth")
    ranked = (
        select(s.id, s.contact_id, s.survey, s.due_at, s.status, s.test, s.fallback_of, latest_first)
        .where(
            one_of(dialect, s.contact_id, "ids"),
            s.due_at >= bindparam("since"),
            s.due_at <= bindparam("until"),
        )
        .subquery()
    )
    r = ranked.c
    return select(r.id, r.contact_id, r.survey, r.due_at, r.status, r.test, r.fallback_of).where(
        r.nth <= bindparam("per_contact")
    )


_RECENT_SENDS = _per_dialect(_recent_sends_query)


class DailyCounts(dict[date, int]):
    """Per-day send totals, each read from the counter table the first time it is asked for."""

    def __init__(self, load: Callable[[date], int]) -> None:
        super().__init__()
        self._load = load

    def __missing__(self, day: date) -> int:
        self[day] = value = self._load(day)
        return value


def daily_count(conn: Connection, day: date, *, lock: bool = False) -> int:
    """The day's send total; with `lock` (PostgreSQL) the counter row is held until commit.

    The row is created first when locking: `FOR UPDATE` on a row that does not exist yet locks
    nothing, and two processes would both read 0 for a new day.
    """
    locking = lock and conn.dialect.name == "postgresql"
    if locking:
        conn.execute(
            postgresql.insert(daily_counts_t).values(day=day.isoformat(), count=0).on_conflict_do_nothing()
        )
    query = select(daily_counts_t.c.count).where(daily_counts_t.c.day == day.isoformat())
    if locking:
        query = query.with_for_update()
    return int(conn.execute(query).scalar() or 0)


def add_daily_counts(conn: Connection, added: dict[date, int]) -> dict[date, int]:
    """Add to the per-day send counters; returns each day's new total."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    totals = {}
    for day, count in sorted(added.items()):
        statement = dialect.insert(daily_counts_t).values(day=day.isoformat(), count=count)
        statement = statement.on_conflict_do_update(
            index_elements=["day"], set_={"count": daily_counts_t.c.count + statement.excluded.count}
        ).returning(daily_counts_t.c.count)
        totals[day] = int(conn.execute(statement).scalar_one())
    return totals


def load_pending_sends(
    conn: Connection, *, contact_ids: Sequence[str], triggers: Mapping[str, TriggerConfig]
) -> dict[str, list[PendingSend]]:
    """By contact, the sends of these triggers (by name) not yet gone out, which a `cancel_on`
    event could still call off."""
    if not triggers:
        return {}
    parameters = {"ids": listed(conn, contact_ids), "triggers": sorted(triggers)}
    rows = conn.execute(_PENDING_SENDS(conn), parameters)
    pending: dict[str, list[PendingSend]] = {}
    for r in rows:
        document = {
            "id": r.event_id,
            "type": r.type,
            "contact": {"id": r.contact_id},
            "properties": r.properties or {},
        }
        key = cancel_key(triggers[r.trigger], document)
        send = PendingSend(r.id, r.event_pk, r.trigger, r.contact_id, key, PastSend(r.survey, r.due_at))
        pending.setdefault(r.contact_id, []).append(send)
    return pending


def _pending_sends_query(dialect: str) -> Select[Any]:
    s, e = sends_t.c, events_t.c
    return (
        select(
            s.id, s.event_pk, s.trigger, s.contact_id, s.survey, s.due_at, e.event_id, e.type, e.properties
        )
        .join(events_t, e.pk == s.event_pk)
        .where(
            one_of(dialect, s.contact_id, "ids"),
            s.trigger.in_(bindparam("triggers", expanding=True)),
            s.status.in_(SEND_PENDING),
        )
    )


_PENDING_SENDS = _per_dialect(_pending_sends_query)


def cancel_sends(conn: Connection, send_ids: Sequence[str], *, reason: str, now: datetime) -> set[str]:
    """Call off sends still pending; returns the ones actually cancelled."""
    if not send_ids:
        return set()
    s = sends_t.c
    rows = conn.execute(
        update(sends_t)
        .where(s.id.in_(send_ids), s.status.in_(SEND_PENDING))
        .values(status=SendStatus.CANCELLED, reason=reason, updated_at=now)
        .returning(s.id)
    )
    return {row[0] for row in rows}


def get_or_create_setting(conn: Connection, key: str, make: Any) -> str:
    """A stored instance setting, created once (by whichever process gets there first)."""
    existing = conn.execute(select(settings_t.c.value).where(settings_t.c.key == key)).scalar()
    if existing is not None:
        return str(existing)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(settings_t).values(key=key, value=make()).on_conflict_do_nothing())
    return str(conn.execute(select(settings_t.c.value).where(settings_t.c.key == key)).scalar_one())


def opted_out_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    rows = conn.execute(_OPTED_OUT(conn), {"ids": listed(conn, keys)})
    return {row[0] for row in rows}


_OPTED_OUT = _per_dialect(
    lambda dialect: select(opt_outs_t.c.address_key).where(one_of(dialect, opt_outs_t.c.address_key, "ids"))
)


def add_opt_out(conn: Connection, *, key: str, channel: str, source: str, now: datetime) -> bool:
    """Opt an address out; True when it was not opted out before."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    result = conn.execute(
        dialect.insert(opt_outs_t)
        .values(address_key=key, channel=channel, source=source, created_at=now)
        .on_conflict_do_nothing()
        .returning(opt_outs_t.c.address_key)  # rowcount is -1 here on PostgreSQL (psycopg)
    )
    return result.first() is not None


def remove_opt_out(conn: Connection, *, key: str) -> bool:
    result = conn.execute(opt_outs_t.delete().where(opt_outs_t.c.address_key == key))
    return bool(result.rowcount)


def events_by_pk(conn: Connection, pks: Sequence[str]) -> dict[str, Any]:
    e = events_t.c
    rows = conn.execute(select(events_t).where(e.pk.in_(pks)))
    return {row.pk: row for row in rows}
