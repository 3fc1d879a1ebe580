"""The rows ingestion writes, made from its values: contacts merged over what was stored, and a
batch's events, sends and decisions, gathered in the order they were decided and written in bulk.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from storage import queries
from storage.bulk import insert_values
from storage.errors import EventIdTaken
from storage.hold_rollups import HOLD_OUTCOMES, count_holds
from storage.ids import batch_minter, new_id
from storage.models import SendStatus
from triggers.engine import EventDecisions, TriggerDecision
from triggers.events import ContactIn, EventIn
from triggers.outcomes import Reason
from triggers.settings import SurveyConfig


class MergedContacts(NamedTuple):
    by_id: dict[str, ContactIn]  # each contact merged over what was known of it
    stored_before: set[str]  # the ids already stored: a contact new to us has no sends yet


def merge_contacts(conn: Connection, contacts: Iterable[ContactIn], *, now: datetime) -> MergedContacts:
    """Store each contact merged over what was known of it (stored, or given earlier in
    `contacts`)."""
    given = list(contacts)
    stored = queries.load_contacts(conn, sorted({c.id for c in given}))
    merged: dict[str, ContactIn] = {}
    for contact in given:
        merged[contact.id] = contact.merged_over(merged.get(contact.id) or stored.get(contact.id))
    known = set(stored)
    queries.upsert_contacts(conn, merged.values(), known=known, now=now)
    return MergedContacts(merged, known)


def new_send_id() -> str:
    """An id for a send about to be scheduled: time-ordered, unique without asking the database."""
    return new_id("snd")


class IntakeRows:
    """One batch's rows, gathered in memory as events are decided and written by `write`."""

    def __init__(self, *, now: datetime, surveys: Mapping[str, SurveyConfig]) -> None:
        self.now = now
        self.surveys = surveys
        self.events: list[tuple[Any, ...]] = []
        self.decisions: list[TriggerDecision] = []
        self.sends: dict[str, TriggerDecision] = {}  # the decisions that schedule, by send id
        self.sends_called_off: dict[str, Reason] = {}  # sends of this batch a later event called off
        self.stored_called_off: dict[Reason, list[str]] = {}  # stored sends to cancel, by reason
        self.new_event_pk = batch_minter("evt")

    def add_event(self, event: EventIn, *, source: str) -> str:
        """Add the event's row; returns the key its decisions and sends refer to it by."""
        pk = self.new_event_pk()
        self.events.append(event_values(event, pk=pk, source=source, now=self.now))
        return pk

    def add_decisions(self, decided: EventDecisions) -> None:
        """Add an event's decisions, the sends they schedule, and the cancels of earlier sends."""
        for decision in decided.decisions:
            self.decisions.append(decision)
            if decision.send_id is None:  # suppressed
                continue
            if decision.schedules:
                self.sends[decision.send_id] = decision
            else:
                assert decision.outcome == "cancelled" and decision.reason is not None
                self._call_off(decision.send_id, decision.reason)

    def _call_off(self, send_id: str, reason: Reason) -> None:
        if send_id in self.sends:
            self.sends_called_off[send_id] = reason
        else:
            self.stored_called_off.setdefault(reason, []).append(send_id)

    def write(self, conn: Connection) -> set[str]:
        """Cancel the stored sends called off, then insert every row. Returns the sends that
        were past calling off (the dispatcher took them meanwhile): their `cancelled`
        decisions are not stored."""
        missed: set[str] = set()
        for reason, send_ids in self.stored_called_off.items():
            missed |= set(send_ids) - queries.cancel_sends(conn, send_ids, reason=reason, now=self.now)
        decisions = [d for d in self.decisions if not (d.outcome == "cancelled" and d.send_id in missed)]
        now = self.now
        metric = {name: survey.metric for name, survey in self.surveys.items()}
        called_off = self.sends_called_off
        try:
            insert_values(conn, queries.events_t, EVENT_COLUMNS, self.events)
        except IntegrityError as exc:
            if _constraint_of(exc) == EVENT_ID_CONSTRAINT:
                raise EventIdTaken() from exc
            raise
        sends = [send_values(d, metric[d.survey], now, called_off.get(i)) for i, d in self.sends.items()]
        insert_values(conn, queries.sends_t, SEND_COLUMNS, sends)
        decision_rows = [decision_values(d, now) for d in decisions]
        insert_values(conn, queries.decisions_t, DECISION_COLUMNS, decision_rows)
        held = [
            dict(zip(DECISION_COLUMNS, row, strict=True))
            for row in decision_rows
            if row[OUTCOME] in HOLD_OUTCOMES
        ]
        count_holds(conn, held)  # the hold rollups, in the same transaction
        return missed

    def events_of(self, types: Collection[str]) -> list[dict[str, Any]]:
        """The batch's event rows whose type is one of `types`, column name to value."""
        if not types:
            return []
        kind = EVENT_COLUMNS.index("type")
        return [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in self.events if row[kind] in types]


# PostgreSQL's name for the unique constraint on `events.event_id` (migration 0001).
EVENT_ID_CONSTRAINT = "events_event_id_key"


def _constraint_of(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


# The rows as tuples in these columns' order: a batch makes three rows an event, and a tuple
# costs a fraction of a dict to build and nothing to take apart for the driver.
EVENT_COLUMNS = ("pk", "event_id", "type", "contact_id", "occurred_at", "received_at", "properties", "source")
SEND_COLUMNS = (
    "id", "event_pk", "trigger", "survey", "contact_id", "metric", "channel", "to_address", "status",
    "reason", "attempts", "due_at", "created_at", "updated_at",
)  # fmt: skip
DECISION_COLUMNS = (
    "event_pk", "contact_id", "trigger", "survey", "outcome", "reason", "detail", "send_id", "due_at",
    "decided_at",
)  # fmt: skip
OUTCOME = DECISION_COLUMNS.index("outcome")


def event_values(event: EventIn, *, pk: str, source: str, now: datetime) -> tuple[Any, ...]:
    """The event's row, in `EVENT_COLUMNS`."""
    return (pk, event.id, event.type, event.contact.id, event.occurred_at, now, event.properties, source)


def event_row(event: EventIn, *, pk: str, source: str, now: datetime) -> dict[str, Any]:
    return dict(zip(EVENT_COLUMNS, event_values(event, pk=pk, source=source, now=now), strict=True))


def send_values(
    decision: TriggerDecision, metric: str, now: datetime, called_off: Reason | None = None
) -> tuple[Any, ...]:
    """The send a `scheduled` or `deferred` decision makes, in `SEND_COLUMNS`; `called_off`
    says why a later event of the same batch cancelled it."""
    d = decision
    status = _CANCELLED if called_off else _SCHEDULED
    return (
        d.send_id, d.event_ref, d.trigger, d.survey, d.contact_id, metric, d.channel, d.to, status,
        called_off, 0, d.due_at, now, now,
    )  # fmt: skip


_CANCELLED, _SCHEDULED = str(SendStatus.CANCELLED), str(SendStatus.SCHEDULED)


def decision_values(decision: TriggerDecision, now: datetime) -> tuple[Any, ...]:
    """The decision's row, in `DECISION_COLUMNS`."""
    d = decision
    return (
        d.event_ref,
        d.contact_id,
        d.trigger,
        d.survey,
        d.outcome,
        d.reason,
        d.detail,
        d.send_id,
        d.due_at,
        now,
    )
