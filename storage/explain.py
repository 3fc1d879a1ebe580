"""What surveybot did with one contact, read back from storage: events, decisions, sends, replies.

`contact_history(conn, contact_id)` returns every row about the contact, each kind in time
order, as plain JSON-ready dicts (times as ISO 8601 UTC strings); `timeline` merges them into one
list for people. Decisions include those taken at send time (an opt-out or quiet hours met when
the send fell due), so the reason a survey never arrived is always there to read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, false, func, select

from storage.models import Contact, Decision, Event, Response, Send
from storage.reminders import contact_reminders

contacts_t = Contact.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]
decisions_t = Decision.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
responses_t = Response.__table__  # type: ignore[attr-defined]


@dataclass
class ContactHistory:
    contact: dict[str, Any] | None
    events: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    sends: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.contact is not None or bool(self.events or self.decisions)

    def to_json(self) -> dict[str, Any]:
        return {
            "contact": self.contact,
            "events": self.events,
            "decisions": self.decisions,
            "sends": self.sends,
            "responses": self.responses,
            "reminders": self.reminders,
        }


def contact_history(conn: Connection, contact_id: str) -> ContactHistory:
    """Everything stored about `contact_id`; `found` is False when there is nothing."""
    history = ContactHistory(_contact(conn, contact_id))
    event_ids = {}
    e = events_t.c
    for row in conn.execute(
        select(e.pk, e.event_id, e.type, e.occurred_at, e.received_at, e.source, e.properties)
        .where(e.contact_id == contact_id)
        .order_by(e.occurred_at, e.pk)
    ):
        event_ids[row.pk] = row.event_id
        history.events.append(_row(row, rename={"pk": "ref", "event_id": "id"}))
    history.decisions = _decisions(conn, contact_id, event_ids)
    s = sends_t.c
    history.sends = [
        _row(row)
        for row in conn.execute(
            select(
                s.id,
                s.trigger,
                s.survey,
                s.channel,
                s.to_address,
                s.status,
                s.reason,
                s.due_at,
                s.sent_at,
                s.test,
                s.locale,
            )
            .where(s.contact_id == contact_id)
            .order_by(s.due_at, s.id)
        )
    ]
    r = responses_t.c
    history.responses = [
        _row(row)
        for row in conn.execute(
            select(
                r.send_id,
                r.survey,
                r.metric,
                r.channel,
                r.score,
                r.comment,
                r.counted,
                r.received_at,
                func.coalesce(s.test, false()).label("test"),
            )
            .outerjoin(sends_t, s.id == r.send_id)
            .where(r.contact_id == contact_id)
            .order_by(r.received_at, r.id)
        )
    ]
    history.reminders = [_row(row) for row in contact_reminders(conn, contact_id)]
    return history


def _contact(conn: Connection, contact_id: str) -> dict[str, Any] | None:
    c = contacts_t.c
    row = conn.execute(
        select(c.id, c.email, c.phone, c.name, c.timezone, c.locale, c.forgotten_at).where(c.id == contact_id)
    ).first()
    return _row(row) if row is not None else None


def _decisions(conn: Connection, contact_id: str, event_ids: dict[str, str | None]) -> list[dict[str, Any]]:
    d = decisions_t.c
    rows = conn.execute(
        select(
            d.event_pk, d.trigger, d.survey, d.outcome, d.reason, d.detail, d.send_id, d.due_at, d.decided_at
        )
        .where(d.contact_id == contact_id)
        .order_by(d.decided_at, d.id)
    )
    decisions = []
    for row in rows:
        decision = _row(row, rename={"event_pk": "event_ref"})
        decision["event_id"] = event_ids.get(row.event_pk)
        decisions.append(decision)
    return decisions


def _row(row: Any, rename: dict[str, str] | None = None) -> dict[str, Any]:
    rename = rename or {}
    return {rename.get(key, key): _plain(value) for key, value in row._mapping.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


@dataclass(frozen=True)
class Moment:
    """One line of the timeline: when, what kind of thing, which survey, and what it says."""

    at: str
    kind: str
    survey: str
    what: str


def timeline(history: ContactHistory, when: Callable[[str], str] = str) -> list[Moment]:
    """Events, decisions, sends and responses merged into one list in time order; `when`
    writes the times inside the texts (a due time) for people."""
    moments = [Moment(e["occurred_at"], "event", "", _event_text(e)) for e in history.events]
    moments += [
        Moment(d["decided_at"], "decision", d["survey"], _decision_text(d, when)) for d in history.decisions
    ]
    moments += [
        Moment(s["sent_at"] or s["due_at"], "send", s["survey"], _send_text(s)) for s in history.sends
    ]
    moments += [
        Moment(r["received_at"], "response", r["survey"], _response_text(r)) for r in history.responses
    ]
    moments += [
        Moment(m["sent_at"] or m["due_at"], "reminder", m["survey"], _reminder_text(m))
        for m in history.reminders
    ]
    order = {"event": 0, "decision": 1, "send": 2, "reminder": 3, "response": 4}
    return sorted(moments, key=lambda m: (m.at, order[m.kind]))


def _event_text(event: dict[str, Any]) -> str:
    return f"{event['type']} (id {event['id'] or '-'}, via {event['source']})"


def _decision_text(decision: dict[str, Any], when: Callable[[str], str]) -> str:
    text = f"{decision['trigger']}: {decision['outcome']}"
    if decision["reason"]:
        text += f" ({decision['reason']}" + (f": {decision['detail']})" if decision.get("detail") else ")")
    if decision["due_at"]:
        text += f", due {when(decision['due_at'])}"
    return text


def _send_text(send: dict[str, Any]) -> str:
    text = "test send, " if send.get("test") else ""
    text += f"{send['channel']} to {send['to_address'] or '-'}: {send['status']}"
    if send.get("locale"):
        text += f", in {send['locale']}"
    return text + (f" ({send['reason']})" if send["reason"] else "")


def _reminder_text(reminder: dict[str, Any]) -> str:
    text = f"reminder of {reminder['send_id']} by {reminder['channel']}: {reminder['status']}"
    return text + (f" ({reminder['reason']})" if reminder["reason"] else "")


def _response_text(response: dict[str, Any]) -> str:
    text = f"score {response['score']} ({response['metric']})"
    if response.get("test"):
        text += ", test: not counted"
    elif not response["counted"]:
        text += ", late: not counted"
    return text + (f": {response['comment']!r}" if response["comment"] else "")
