"""Where a contact's personal data lives, and the queries that erase it.

Personal data here is what a person wrote (comments, SMS bodies), where they can be reached
(addresses), their name, and text an event carried about them. Scores, times, surveys,
channels and statuses are not: they stay, so the metrics do not change when someone is erased.

Columns that are simply emptied are listed once, in `PERSONAL_DATA`; erasure (`erase_listed`)
and retention (`storage.retention`) both work from that list. A new table that keeps a copy of
such data joins with one registration, for example:

    PersonalData("note_copies", "notes", {"text": None}, owner=by_send, kept_for="comments")

(The `alerts` table keeps only the score and survey; what an alert showed lives in Slack.)

Contacts, sends and events need more than emptying a column and have functions of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, false, insert, or_, select, update

from storage.hold_rollups import count_holds
from storage.models import SEND_PENDING, Contact, Decision, Event, Send, SendStatus, SQLModel
from storage.rollups import events_changing
from storage.theme_rollups import responses_changing

contacts_t = Contact.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]
decisions_t = Decision.__table__  # type: ignore[attr-defined]

ERASED = "[erased]"
FORGOTTEN = "forgotten"  # the reason on sends (and decisions) erasure called off


@dataclass(frozen=True)
class Owners:
    """Whose data is being erased: contact ids, and every address known for them."""

    contact_ids: Sequence[str]
    addresses: Sequence[str] = ()


Owner = Callable[[Table, Owners], ColumnElement[bool]]


def by_contact(table: Table, owners: Owners) -> ColumnElement[bool]:
    """Rows with a `contact_id` column naming one of the owners."""
    return table.c.contact_id.in_(owners.contact_ids)


def by_send(table: Table, owners: Owners) -> ColumnElement[bool]:
    """Rows with a `send_id` column naming a send to one of the owners."""
    their_sends = select(sends_t.c.id).where(sends_t.c.contact_id.in_(owners.contact_ids))
    return table.c.send_id.in_(their_sends.scalar_subquery())


def by_send_or_sender(table: Table, owners: Owners) -> ColumnElement[bool]:
    """`by_send`, or sent from one of the owners' addresses (an SMS no survey was open for)."""
    from_them = table.c.from_address.in_(owners.addresses) if owners.addresses else false()
    return or_(by_send(table, owners), from_them)


@dataclass(frozen=True)
class PersonalData:
    """Columns of `table` holding personal data, and the values they are erased to.

    `owner` finds a contact's rows. `kept_for` names the `retention` setting after which the
    columns are erased for everyone (None: kept until erased); `age` is the column it counts from.
    """

    kind: str
    table: str
    erased: Mapping[str, Any]
    owner: Owner
    kept_for: str | None = None
    age: str = "received_at"

    def sql_table(self) -> Table:
        return SQLModel.metadata.tables[self.table]

    def still_held(self) -> ColumnElement[bool]:
        """Rows where at least one of the columns is not erased yet (so a rerun counts 0)."""
        table = self.sql_table()
        return or_(
            *[
                table.c[name].is_not(None) if value is None else table.c[name] != value
                for name, value in self.erased.items()
            ]
        )


PERSONAL_DATA: list[PersonalData] = [
    PersonalData("comments", "responses", {"comment": None}, by_contact, kept_for="comments"),
    PersonalData(
        "sms_messages",
        "inbound_messages",
        {"body": "", "from_address": "", "answer": None},
        by_send_or_sender,
        kept_for="inbound_messages",
    ),
]


def erase_listed(conn: Connection, owners: Owners) -> dict[str, int]:
    """Empty every registered column for the owners' rows; rows changed per kind."""
    counts: dict[str, int] = {}
    for data in PERSONAL_DATA:
        table = data.sql_table()
        theirs = data.owner(table, owners)
        with comments_changing(conn, table, theirs):
            result = conn.execute(update(table).where(theirs, data.still_held()).values(**data.erased))
        counts[data.kind] = counts.get(data.kind, 0) + result.rowcount
    return counts


@contextmanager
def comments_changing(conn: Connection, table: Table, rows: ColumnElement[bool]) -> Iterator[None]:
    """Around emptying columns of `rows`: when they are responses, their comments leave the
    theme rollups before and come back (emptied) after. `rows` must select the same rows after."""
    if table.name != "responses":
        yield
        return
    with responses_changing(conn, rows):
        yield


# --- finding whose data it is ----------------------------------------------------------------


def contacts_with_address(conn: Connection, address: str, keys: Sequence[str]) -> list[str]:
    """Contacts that have, or were sent to, `address`; `keys` are its keyed hashes, which find
    contacts already erased (their sends keep only the hash)."""
    c, s = contacts_t.c, sends_t.c
    found = select(c.id).where(or_(c.email == address, c.phone == address))
    sent = select(s.contact_id).where(or_(s.to_address == address, s.address_key.in_(keys)))
    return sorted({row[0] for row in conn.execute(found.union(sent))})


def known_contacts(conn: Connection, contact_ids: Sequence[str]) -> list[str]:
    rows = conn.execute(select(contacts_t.c.id).where(contacts_t.c.id.in_(contact_ids)))
    return sorted(row[0] for row in rows)


def addresses_of(conn: Connection, contact_ids: Sequence[str]) -> set[str]:
    """Every address stored for the contacts: on the contact, and on sends to them."""
    c, s = contacts_t.c, sends_t.c
    on_contact = conn.execute(select(c.email, c.phone).where(c.id.in_(contact_ids)))
    on_sends = conn.execute(
        select(s.to_address).where(s.contact_id.in_(contact_ids), s.to_address.is_not(None))
    )
    return {a for row in [*on_contact, *on_sends] for a in row if a}


# --- the tables that need more than emptying a column ----------------------------------------


def erase_contact_fields(conn: Connection, contact_ids: Sequence[str], now: datetime) -> int:
    """Empty the contacts' addresses and names; `timezone` and `locale` stay (see docs/privacy.md)."""
    c = contacts_t.c
    held = or_(c.email.is_not(None), c.phone.is_not(None), c.name.is_not(None))
    result = conn.execute(
        update(contacts_t)
        .where(c.id.in_(contact_ids), held)
        .values(email=None, phone=None, name=None, updated_at=now)
    )
    return result.rowcount


def mark_forgotten(conn: Connection, contact_ids: Sequence[str], now: datetime, *, again: bool) -> None:
    """Record when the contacts were erased: the first time, or again when something new was."""
    c = contacts_t.c
    query = update(contacts_t).where(c.id.in_(contact_ids))
    if not again:
        query = query.where(c.forgotten_at.is_(None))
    conn.execute(query.values(forgotten_at=now))


def cancel_pending_sends(conn: Connection, contact_ids: Sequence[str], now: datetime) -> int:
    """Call off sends not gone out yet, each with a `cancelled` decision saying why."""
    s = sends_t.c
    rows = conn.execute(
        update(sends_t)
        .where(s.contact_id.in_(contact_ids), s.status.in_(SEND_PENDING))
        .values(status=SendStatus.CANCELLED, reason=FORGOTTEN, updated_at=now)
        .returning(s.id, s.event_pk, s.contact_id, s.trigger, s.survey)
    ).all()
    if rows:
        decisions = [
            {"event_pk": r.event_pk, "contact_id": r.contact_id, "trigger": r.trigger,
             "survey": r.survey, "outcome": "cancelled", "reason": FORGOTTEN, "send_id": r.id,
             "due_at": None, "decided_at": now}
            for r in rows
        ]  # fmt: skip
        conn.execute(insert(decisions_t), decisions)
        count_holds(conn, decisions)
    return len(rows)


def erase_send_addresses(
    conn: Connection, contact_ids: Sequence[str], key: Callable[[str, str], str], addresses: Iterable[str]
) -> int:
    """Empty `to_address` on the contacts' sends, keeping its keyed hash (so an unsubscribe
    link still works), and cut the addresses out of provider error texts."""
    s = sends_t.c
    rows = conn.execute(
        select(s.id, s.channel, s.to_address, s.reason).where(
            s.contact_id.in_(contact_ids), s.to_address.is_not(None)
        )
    ).all()
    for row in rows:
        conn.execute(
            update(sends_t)
            .where(s.id == row.id)
            .values(
                to_address=None,
                address_key=key(row.channel, row.to_address),
                reason=redact(row.reason, addresses),
            )
        )
    return len(rows)


def redact(text: str | None, addresses: Iterable[str]) -> str | None:
    if text is None:
        return None
    for address in addresses:
        text = text.replace(address, ERASED)
    return text


def erase_event_properties(
    conn: Connection, contact_ids: Sequence[str], keep: Callable[[dict[str, Any]], dict[str, Any]]
) -> int:
    """Replace each of the contacts' events' properties by `keep(properties)`; events changed."""
    e = events_t.c
    changed: dict[str, dict[str, Any]] = {}
    for row in conn.execute(select(e.pk, e.properties).where(e.contact_id.in_(contact_ids))).all():
        properties = dict(row.properties or {})
        kept = keep(properties)
        if kept != properties:
            changed[row.pk] = kept
    if changed:
        with events_changing(conn, list(changed)):
            for pk, kept in changed.items():
                conn.execute(update(events_t).where(e.pk == pk).values(properties=kept))
    return len(changed)
