"""Taking events in: the one path that `POST /v1/events`, `emit` and `import` share.

A batch is validated event by event (a bad one is reported and stores nothing), then decided
and written in one transaction: the contacts' history is read once, each event is decided in
memory in order (`triggers.engine`, which `simulate` runs too), and events, decisions and sends
are inserted in bulk (`storage.intake`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import chain
from operator import attrgetter
from typing import Any

from bot.config import Config
from bot.errors import InvalidEvent
from bot.runtime.clock import Clock
from bot.runtime.telemetry import Telemetry
from storage import intake, outcomes, queries
from storage.db import Connection, Database
from storage.errors import EventIdTaken
from storage.ids import batch_minter
from triggers.addresses import AddressKeys
from triggers.engine import History, PendingSend, TriggerDecision, TriggerIndex, decide_event
from triggers.events import EventIn, parse_event
from triggers.follow_ups import follow_ups
from triggers.policy import PolicyState
from triggers.settings import TriggerConfig

MAX_BATCH = 1000
# Quiet hours defer a send by less than a day (two, to be safe across a change of clocks).
QUIET_HOURS_LONGEST = timedelta(days=2)


def decision_json(decision: TriggerDecision) -> dict[str, Any]:
    """A decision as the events API answers it."""
    due_at = decision.due_at
    return {
        "trigger": decision.trigger,
        "outcome": decision.outcome,
        "reason": decision.reason,
        "send_id": decision.send_id,
        "due_at": _iso_utc(due_at, due_at.utcoffset()) if due_at else None,
        "detail": decision.detail,
    }


@lru_cache(maxsize=4096)
def _iso_utc(moment: datetime, offset: timedelta | None) -> str:
    """Cached: a batch's sends are due at a few instants (its `now`, now plus each delay). The
    offset is part of the key: equal instants in two zones are equal datetimes, not equal text."""
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class EventResult:
    id: str | None
    status: str  # accepted | duplicate | invalid
    error: str | None = None
    error_field: str | None = None
    decisions: list[TriggerDecision] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status, "error": self.error}
        if self.error_field:
            body["field"] = self.error_field
        body["decisions"] = [decision_json(d) for d in self.decisions]
        return body


_STATUS, _DECISIONS = attrgetter("status"), attrgetter("decisions")
_OUTCOME_REASON = attrgetter("outcome", "reason")


class _Overbooked(Exception):
    """The daily cap was passed by sends another process scheduled at the same time."""


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
        self.follow_ups = follow_ups(config.outcomes)
        self.watched = {kind for d in self.follow_ups for kind in d.watched_types()}

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
            decisions = chain.from_iterable(map(_DECISIONS, results))
            self.telemetry.count_ingested(map(_STATUS, results), map(_OUTCOME_REASON, decisions))
        return results

    def _validate(self, raw: Any, now: datetime, seen: set[str]) -> tuple[EventResult, EventIn | None]:
        try:
            event = parse_event(raw, now, max_future=self.config.server.max_future_skew)
        except InvalidEvent as exc:
            return EventResult(_shown_id(raw), "invalid", str(exc), exc.field), None
        if event.id is not None:
            if event.id in seen:
                return EventResult(event.id, "duplicate"), None
            seen.add(event.id)
        return EventResult(event.id, "accepted"), event

    def _store(
        self, valid: list[tuple[int, EventIn]], results: list[EventResult], source: str, now: datetime
    ) -> bool:
        """Decide and write in one transaction, first optimistically; on PostgreSQL, a race
        another process won is decided again with more held from the start:
        - another process took part of today's cap meanwhile: the day's counter;
        - another process stored one of these event ids meanwhile, under another contact (the
          same contact's events wait for each other's locks already): the event ids.
        Locking every event id up front cost a tenth of a batch for a race that needs an
        idempotency key reused across contacts."""
        lock_days = lock_event_ids = False
        while True:
            try:
                return self._store_once(
                    valid, results, source, now, lock_days=lock_days, lock_event_ids=lock_event_ids
                )
            except _Overbooked:
                if lock_days:  # cannot happen: the counter was held from its first read
                    raise
                lock_days = True
            except EventIdTaken:
                if lock_event_ids:
                    raise
                lock_event_ids = True
            for index, _ in valid:
                results[index].decisions = []

    def _store_once(
        self,
        valid: list[tuple[int, EventIn]],
        results: list[EventResult],
        source: str,
        now: datetime,
        *,
        lock_days: bool,
        lock_event_ids: bool,
    ) -> bool:
        with self.db.write() as conn:
            fresh = _fresh(conn, valid, results, lock_event_ids=lock_event_ids)
            if not fresh:
                return False
            contacts = intake.merge_contacts(conn, [e.contact for _, e in fresh], now=now)
            history = self._history(conn, fresh, contacts, now, lock_days=lock_days)
            merged = contacts.by_id
            rows = intake.IntakeRows(now=now, surveys=self.index.surveys)
            due_now = False
            for index, event in fresh:
                event_ref = rows.add_event(event, source=source)
                contact = merged[event.contact.id]
                decided = decide_event(event, contact, history, self.index, now, event_ref=event_ref)
                rows.add_decisions(decided)
                results[index].decisions = decided.decisions
                due_now = due_now or decided.due_by(now)
            _drop_cancels(results, rows.write(conn))
            outcomes.keep_events(conn, rows.events_of(self.watched), self.follow_ups)  # docs/outcomes.md
            self._count_days(conn, history.state)  # last: the day's counter row stays locked until commit
            return due_now

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

    def _history(
        self,
        conn: Connection,
        fresh: list[tuple[int, EventIn]],
        contacts: intake.MergedContacts,
        now: datetime,
        *,
        lock_days: bool,
    ) -> History:
        """What the gates and `cancel_on` need to know of these contacts, read once for the batch
        (sends only of contacts stored before it: a new one has none); with `lock_days`, each
        day's send counter is held until commit from its first read."""
        # Opt-outs are only read by the gates choosing among these triggers' channels.
        channels = self.index.channels_of({e.type for _, e in fresh})
        keys = [
            self.address_keys.key(channel, address)
            for contact in contacts.by_id.values()
            for channel in channels
            if (address := contact.address(channel))
        ]
        known = sorted(contacts.stored_before)
        state = queries.load_policy_state(
            conn, contact_ids=known, window=self._window(fresh, now), address_keys=keys
        )
        if lock_days:
            state.daily_counts = queries.DailyCounts(lambda day: queries.daily_count(conn, day, lock=True))
        pending = self._pending(conn, fresh, contacts.stored_before)
        return History(state, self.address_keys.key, batch_minter("snd"), pending)

    def _window(self, fresh: list[tuple[int, EventIn]], now: datetime) -> tuple[datetime, datetime] | None:
        """The due times of past sends the gates can compare this batch's sends with: from the
        lookback before the earliest event to the lookback after the latest a send of this batch
        can be due (its event's time, the longest delay, a night of quiet hours). None: no gate
        looks at history, so none is read, however many sends a contact already has."""
        lookback = self.index.lookback
        if not lookback:
            return None
        times = [e.occurred_at for _, e in fresh]
        latest_due = max(max(times) + self.index.longest_delay, now) + QUIET_HOURS_LONGEST
        return min(min(times), now) - lookback, latest_due + lookback

    def _pending(
        self, conn: Connection, fresh: list[tuple[int, EventIn]], known: set[str]
    ) -> dict[str, list[PendingSend]]:
        """The pending sends of the known contacts whose events in this batch may call one off,
        of the triggers those events' types may call off."""
        triggers: dict[str, TriggerConfig] = {}
        contact_ids: set[str] = set()
        for _, event in fresh:
            if event.contact.id in known and (cancelled := self.index.cancelled_by(event.type)):
                triggers |= cancelled
                contact_ids.add(event.contact.id)
        if not contact_ids:
            return {}
        return queries.load_pending_sends(conn, contact_ids=sorted(contact_ids), triggers=triggers)


def _fresh(
    conn: Connection, valid: list[tuple[int, EventIn]], results: list[EventResult], *, lock_event_ids: bool
) -> list[tuple[int, EventIn]]:
    """The events not stored before, their contacts (and with `lock_event_ids` their ids)
    locked; the others marked duplicate."""
    event_ids = [e.id for _, e in valid if e.id is not None]
    contact_ids = sorted({e.contact.id for _, e in valid})
    # Lazily: SQLite takes no such locks, so it never makes the keys.
    keys = chain((f"c:{c}" for c in contact_ids), (f"e:{i}" for i in event_ids) if lock_event_ids else ())
    queries.lock_keys(conn, keys)
    duplicates = queries.existing_event_ids(conn, event_ids)
    for i, _ in valid:
        if results[i].id in duplicates:
            results[i].status = "duplicate"
    return [(i, e) for i, e in valid if e.id is None or e.id not in duplicates]


def _shown_id(raw: Any) -> str | None:
    """An invalid event's id as its result shows it, when it has one that reads as an id."""
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    return str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None


def _drop_cancels(results: list[EventResult], missed: set[str]) -> None:
    """Take out the cancels of sends that were past calling off when the batch was written."""
    if not missed:
        return
    for result in results:
        result.decisions = [
            d for d in result.decisions if not (d.outcome == "cancelled" and d.send_id in missed)
        ]


def chunks(items: Iterable[Any], size: int = MAX_BATCH) -> Iterable[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
