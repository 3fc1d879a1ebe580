"""Taking events in: the one path that `POST /v1/events`, `emit`, `import` and `simulate` share.

A batch is validated event by event (a bad one is reported and stores nothing), then decided
and written in one transaction: the contacts' history is read once, every trigger is judged in
memory in event order, and events, decisions and sends are inserted in bulk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from bot.config import Config
from bot.errors import InvalidEvent
from bot.runtime.clock import Clock
from bot.runtime.telemetry import Telemetry
from storage import queries
from storage.db import Database
from storage.ids import new_id
from triggers.addresses import AddressKeys
from triggers.engine import History, PendingSend, TriggerDecision, TriggerIndex, decide_event
from triggers.events import ContactIn, EventIn, parse_event
from triggers.outcomes import Outcome, Reason
from triggers.policy import PolicyState

MAX_BATCH = 1000


@dataclass(frozen=True)
class DecisionOut:
    trigger: str
    outcome: Outcome
    reason: Reason | None = None
    send_id: str | None = None
    due_at: datetime | None = None

    @classmethod
    def of(cls, decision: TriggerDecision) -> DecisionOut:
        return cls(decision.trigger, decision.outcome, decision.reason, decision.send_id, decision.due_at)

    def to_json(self) -> dict[str, Any]:
        due = self.due_at.isoformat().replace("+00:00", "Z") if self.due_at else None
        return {
            "trigger": self.trigger,
            "outcome": self.outcome,
            "reason": self.reason,
            "send_id": self.send_id,
            "due_at": due,
        }


@dataclass
class EventResult:
    id: str | None
    status: str  # accepted | duplicate | invalid
    error: str | None = None
    error_field: str | None = None
    decisions: list[DecisionOut] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status, "error": self.error}
        if self.error_field:
            body["field"] = self.error_field
        body["decisions"] = [d.to_json() for d in self.decisions]
        return body


class _Overbooked(Exception):
    """The daily cap was passed by sends another process scheduled at the same time."""


@dataclass
class _Batch:
    """What one transaction writes, gathered in memory first."""

    events: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    new_sends: dict[str, dict[str, Any]] = field(default_factory=dict)  # by send id
    cancel_ids: list[str] = field(default_factory=list)
    due_now: bool = False


class Ingestor:
    """Validates, decides and stores events; calls `on_due` when a send is due at once."""

    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        address_keys: AddressKeys,
        on_due: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.address_keys = address_keys
        self.on_due = on_due
        self.telemetry: Telemetry | None = None
        self.index = TriggerIndex.build(config.triggers, config.surveys, config.throttle)

    def ingest(
        self, raws: Sequence[Any], *, source: str = "api", now: datetime | None = None
    ) -> list[EventResult]:
        """One result per input, in order. `now` is the moment of decision (simulate moves it)."""
        now = now or self.clock.now()
        results: list[EventResult] = []
        valid: list[tuple[int, EventIn]] = []
        seen: set[str] = set()
        for raw in raws:
            result, event = self._validate(raw, now, seen)
            results.append(result)
            if event is not None:
                valid.append((len(results) - 1, event))
        if valid:
            due_now = self._store(valid, results, source, now)
            if due_now and self.on_due:
                self.on_due()
        if self.telemetry:
            self.telemetry.count_ingested(
                (r.status for r in results), ((d.outcome, d.reason) for r in results for d in r.decisions)
            )
        return results

    def _validate(self, raw: Any, now: datetime, seen: set[str]) -> tuple[EventResult, EventIn | None]:
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        shown_id = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
        try:
            event = parse_event(raw, now)
        except InvalidEvent as exc:
            return EventResult(shown_id, "invalid", str(exc), exc.field), None
        if event.id is not None:
            if event.id in seen:
                return EventResult(event.id, "duplicate"), None
            seen.add(event.id)
        return EventResult(event.id, "accepted"), event

    def _store(
        self, valid: list[tuple[int, EventIn]], results: list[EventResult], source: str, now: datetime
    ) -> bool:
        try:
            return self._store_once(valid, results, source, now, lock_days=False)
        except _Overbooked:
            # Another process took part of today's cap meanwhile (PostgreSQL only): decide again,
            # this time holding the day's counter from the start.
            for index, _ in valid:
                results[index].decisions = []
            return self._store_once(valid, results, source, now, lock_days=True)

    def _store_once(
        self,
        valid: list[tuple[int, EventIn]],
        results: list[EventResult],
        source: str,
        now: datetime,
        *,
        lock_days: bool,
    ) -> bool:
        with self.db.write() as conn:
            event_ids = [e.id for _, e in valid if e.id is not None]
            contact_ids = sorted({e.contact.id for _, e in valid})
            queries.lock_keys(conn, [f"c:{c}" for c in contact_ids] + [f"e:{i}" for i in event_ids])
            duplicates = queries.existing_event_ids(conn, event_ids)
            fresh = [(i, e) for i, e in valid if e.id is None or e.id not in duplicates]
            for i, _ in valid:
                if results[i].id in duplicates:
                    results[i].status = "duplicate"
            if not fresh:
                return False
            contacts = self._merge_contacts(conn, fresh, now)
            history = self._history(conn, fresh, contacts, now)
            if lock_days:
                history.state.daily_counts = queries.DailyCounts(
                    lambda day: queries.daily_count(conn, day, lock=True)
                )
            batch = _Batch()
            for index, event in fresh:
                results[index].decisions = self._decide_event(event, contacts, history, batch, source, now)
            self._apply_cancels(conn, batch, results, now)
            queries.insert_rows(conn, queries.events_t, batch.events)
            queries.insert_rows(conn, queries.sends_t, list(batch.new_sends.values()))
            queries.insert_rows(conn, queries.decisions_t, batch.decisions)
            self._count_days(conn, history.state)  # last: the day's counter row stays locked until commit
            return batch.due_now

    def _count_days(self, conn: Connection, state: PolicyState) -> None:
        """Add this batch's sends to the per-day counters; overbooked if a racer got there first.

        Without a daily cap nothing is counted: the counter row is one that every ingestion
        transaction would update, so processes would queue on it for nothing. (Counting starts
        the day a cap is set.)"""
        if not state.added_per_day or self.config.throttle.daily_cap is None:
            return
        totals = queries.add_daily_counts(conn, state.added_per_day)
        cap = self.config.throttle.daily_cap
        if cap is not None and any(total > cap for total in totals.values()):
            raise _Overbooked()

    def _apply_cancels(
        self, conn: Connection, batch: _Batch, results: list[EventResult], now: datetime
    ) -> None:
        """Cancel stored sends; one the dispatcher took meanwhile is past calling off."""
        if not batch.cancel_ids:
            return
        cancelled = queries.cancel_sends(conn, batch.cancel_ids, reason="cancel_on", now=now)
        missed = set(batch.cancel_ids) - cancelled
        if missed:
            batch.decisions = [
                d for d in batch.decisions if not (d["outcome"] == "cancelled" and d["send_id"] in missed)
            ]
            for result in results:
                result.decisions = [
                    d for d in result.decisions if not (d.outcome == "cancelled" and d.send_id in missed)
                ]

    def _merge_contacts(
        self, conn: Connection, fresh: list[tuple[int, EventIn]], now: datetime
    ) -> dict[str, ContactIn]:
        stored = queries.load_contacts(conn, sorted({e.contact.id for _, e in fresh}))
        merged: dict[str, ContactIn] = {}
        for _, event in fresh:
            cid = event.contact.id
            merged[cid] = event.contact.merged_over(merged.get(cid) or stored.get(cid))
        queries.upsert_contacts(conn, merged.values(), known=set(stored), now=now)
        return merged

    def _history(
        self,
        conn: Connection,
        fresh: list[tuple[int, EventIn]],
        contacts: dict[str, ContactIn],
        now: datetime,
    ) -> History:
        """What the gates and `cancel_on` need to know of these contacts, read once for the batch."""
        keys = [
            self.address_keys.key(channel, address)
            for contact in contacts.values()
            for channel in ("sms", "email")
            if (address := contact.address(channel))
        ]
        earliest = min(min(e.occurred_at for _, e in fresh), now)
        state = queries.load_policy_state(
            conn, contact_ids=list(contacts), since=earliest - self.index.horizon, address_keys=keys
        )
        return History(state, self.address_keys.key, _new_send_id, self._pending(conn, fresh))

    def _pending(self, conn: Connection, fresh: list[tuple[int, EventIn]]) -> dict[str, list[PendingSend]]:
        triggers = {name: t for _, e in fresh for name, t in self.index.cancelled_by(e.type).items()}
        if not triggers:
            return {}
        contact_ids = sorted({e.contact.id for _, e in fresh if self.index.cancelled_by(e.type)})
        return queries.load_pending_sends(conn, contact_ids=contact_ids, triggers=triggers)

    def _decide_event(
        self,
        event: EventIn,
        contacts: dict[str, ContactIn],
        history: History,
        batch: _Batch,
        source: str,
        now: datetime,
    ) -> list[DecisionOut]:
        pk = new_id("evt")
        batch.events.append(
            {
                "pk": pk,
                "event_id": event.id,
                "type": event.type,
                "contact_id": event.contact.id,
                "occurred_at": event.occurred_at,
                "received_at": now,
                "properties": event.properties,
                "source": source,
            }
        )
        decided = decide_event(event, contacts[event.contact.id], history, self.index, now, event_ref=pk)
        for decision in decided.decisions:
            self._record(decision, batch, now)
        batch.due_now = batch.due_now or decided.due_by(now)
        return [DecisionOut.of(d) for d in decided.decisions]

    def _record(self, decision: TriggerDecision, batch: _Batch, now: datetime) -> None:
        if decision.outcome == "cancelled":
            assert decision.send_id is not None
            new_send = batch.new_sends.get(decision.send_id)
            if new_send is not None:
                new_send.update(status="cancelled", reason=decision.reason)
            else:
                batch.cancel_ids.append(decision.send_id)
        elif decision.schedules:
            assert decision.send_id is not None
            batch.new_sends[decision.send_id] = {
                "id": decision.send_id,
                "event_pk": decision.event_ref,
                "trigger": decision.trigger,
                "survey": decision.survey,
                "contact_id": decision.contact_id,
                "metric": self.config.surveys[decision.survey].metric,
                "channel": decision.channel,
                "to_address": decision.to,
                "status": "scheduled",
                "reason": None,  # every row has every column: one insert takes them all
                "attempts": 0,
                "due_at": decision.due_at,
                "created_at": now,
                "updated_at": now,
            }
        batch.decisions.append(
            {
                "event_pk": decision.event_ref,
                "contact_id": decision.contact_id,
                "trigger": decision.trigger,
                "survey": decision.survey,
                "outcome": decision.outcome,
                "reason": decision.reason,
                "send_id": decision.send_id,
                "due_at": decision.due_at,
                "decided_at": now,
            }
        )


def _new_send_id() -> str:
    return new_id("snd")


def chunks(items: Iterable[Any], size: int = MAX_BATCH) -> Iterable[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
