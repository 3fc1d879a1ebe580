"""The rows ingestion writes, made from its values: contacts merged over what was stored, and a
batch's events, sends and decisions, gathered in the order they were decided and written in bulk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from storage import queries
from storage.bulk import bulk_insert
from storage.hold_rollups import count_holds
from storage.ids import new_id
from storage.models import SendStatus
from triggers.engine import EventDecisions, TriggerDecision
from triggers.events import ContactIn, EventIn
from triggers.outcomes import Reason
from triggers.settings import SurveyConfig


def merge_contacts(conn: Connection, contacts: Iterable[ContactIn], *, now: datetime) -> dict[str, ContactIn]:
    """Store each contact merged over what was known of it (stored, or given earlier in
    `contacts`); returns the merged contacts by id."""
    given = list(contacts)
    stored = queries.load_contacts(conn, sorted({c.id for c in given}))
    merged: dict[str, ContactIn] = {}
    for contact in given:
        merged[contact.id] = contact.merged_over(merged.get(contact.id) or stored.get(contact.id))
    queries.upsert_contacts(conn, merged.values(), known=set(stored), now=now)
    return merged


def new_send_id() -> str:
    """An id for a send about to be scheduled: time-ordered, unique without asking the database."""
    return new_id("snd")


class IntakeRows:
    """One batch's rows, gathered in memory as events are decided and written by `write`."""

    def __init__(self, *, now: datetime, surveys: Mapping[str, SurveyConfig]) -> None:
        self.now = now
        self.surveys = surveys
        self.events: list[dict[str, Any]] = []
        self.decisions: list[TriggerDecision] = []
        self.sends: dict[str, TriggerDecision] = {}  # the decisions that schedule, by send id
        self.sends_called_off: dict[str, Reason] = {}  # sends of this batch a later event called off
        self.stored_called_off: dict[Reason, list[str]] = {}  # stored sends to cancel, by reason

    def add_event(self, event: EventIn, *, source: str) -> str:
        """Add the event's row; returns the key its decisions and sends refer to it by."""
        pk = new_id("evt")
        self.events.append(event_row(event, pk=pk, source=source, now=self.now))
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
        bulk_insert(conn, queries.events_t, self.events)
        bulk_insert(conn, queries.sends_t, [self._send_row(i, d) for i, d in self.sends.items()])
        decision_rows = [decision_row(d, now=self.now) for d in decisions]
        bulk_insert(conn, queries.decisions_t, decision_rows)
        count_holds(conn, decision_rows)  # the hold rollups, in the same transaction
        return missed

    def _send_row(self, send_id: str, decision: TriggerDecision) -> dict[str, Any]:
        metric = self.surveys[decision.survey].metric
        called_off = self.sends_called_off.get(send_id)
        return send_row(decision, metric=metric, now=self.now, called_off=called_off)


def event_row(event: EventIn, *, pk: str, source: str, now: datetime) -> dict[str, Any]:
    return {
        "pk": pk,
        "event_id": event.id,
        "type": event.type,
        "contact_id": event.contact.id,
        "occurred_at": event.occurred_at,
        "received_at": now,
        "properties": event.properties,
        "source": source,
    }


def send_row(
    decision: TriggerDecision, *, metric: str, now: datetime, called_off: Reason | None = None
) -> dict[str, Any]:
    """The send a `scheduled` or `deferred` decision makes; `called_off` says why a later event
    of the same batch cancelled it."""
    return {
        "id": decision.send_id,
        "event_pk": decision.event_ref,
        "trigger": decision.trigger,
        "survey": decision.survey,
        "contact_id": decision.contact_id,
        "metric": metric,
        "channel": decision.channel,
        "to_address": decision.to,
        "status": SendStatus.CANCELLED if called_off else SendStatus.SCHEDULED,
        "reason": called_off,
        "attempts": 0,
        "due_at": decision.due_at,
        "created_at": now,
        "updated_at": now,
    }


def decision_row(decision: TriggerDecision, *, now: datetime) -> dict[str, Any]:
    return {
        "event_pk": decision.event_ref,
        "contact_id": decision.contact_id,
        "trigger": decision.trigger,
        "survey": decision.survey,
        "outcome": decision.outcome,
        "reason": decision.reason,
        "detail": decision.detail,
        "send_id": decision.send_id,
        "due_at": decision.due_at,
        "decided_at": now,
    }
