"""`surveybot simulate`: replay events through a policy and count what would have gone out.

The replay runs the very decision code ingestion runs (`triggers.engine.decide_event`) over an
in-memory history instead of a database: each event is decided at its own `occurred_at`, in
time order, and nothing is stored or sent. Memory stays bounded by keeping, per contact, only
the history the gates can still see (the policy's horizon: its longest cooldown or cap window);
a contact idle for longer than that is forgotten, as are its merged details and its event ids.

What differs from a live run, on purpose: no opt-outs (they come from replies, which a replay
has none of), no `stale` (each event is decided at the moment it happened), and an event id
seen again with an `occurred_at` more than a day later is not recognised as a duplicate.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.errors import InvalidEvent
from bot.intake.files import Unparsable, file_format, read_csv, read_jsonl
from bot.intake.ordering import in_time_order
from bot.intake.reminder_replay import ReminderReplay
from triggers.engine import EventDecisions, History, TriggerIndex, decide_event
from triggers.events import ContactIn, EventIn, parse_event
from triggers.outcomes import Outcome
from triggers.policy import PolicyState
from triggers.quiet_hours import contact_timezone

WOULD_SEND = "would_send"  # the report's own word: scheduled or deferred
CANCELLED: Outcome = "cancelled"
MAX_ERRORS = 20
MIN_SWEEP_EVERY = 20_000
# Event ids are remembered this long (by occurred_at): a retried event carries its own time.
DEDUPE_WINDOW = timedelta(days=1)
# Marks a line the reader could not parse; it survives the sort's temporary files as JSON.
UNREADABLE = "\u0000unreadable"


@dataclass(slots=True)
class _Known:
    """What the replay remembers of a contact: merged details, their time zone, when last seen."""

    contact: ContactIn
    zone: ZoneInfo
    last_seen: datetime


@dataclass
class SimulationReport:
    events: Counter[str] = field(default_factory=Counter)
    tally: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (day, survey, outcome)
    deferred: int = 0
    reminders: ReminderReplay | None = None
    # The first MAX_ERRORS invalid lines by line number (events come in time order, not line
    # order): a heap keyed on the negated line, so the latest line is the one dropped.
    _errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[tuple[int, str]]:
        """Up to MAX_ERRORS (line, error), the first lines of the file; `events["invalid"]` counts all."""
        return sorted((-negated, error) for negated, error in self._errors)

    def note_invalid(self, line: int, error: str) -> None:
        self.events["invalid"] += 1
        heapq.heappush(self._errors, (-line, error))
        if len(self._errors) > MAX_ERRORS:
            heapq.heappop(self._errors)

    def to_json(self) -> dict[str, Any]:
        held: Counter[str] = Counter()
        by_survey: dict[str, Counter[str]] = defaultdict(Counter)
        by_day: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        for (day, survey, outcome), count in sorted(self.tally.items()):
            if count == 0:
                continue
            by_survey[survey][outcome] += count
            by_day[day][survey][outcome] += count
            if outcome not in (WOULD_SEND, CANCELLED):
                held[outcome] += count
        return {
            "events": dict(sorted(self.events.items())),
            "would_send": sum(c for (_, _, o), c in self.tally.items() if o == WOULD_SEND),
            "deferred_by_quiet_hours": self.deferred,
            "cancelled": sum(c for (_, _, o), c in self.tally.items() if o == CANCELLED),
            "held_back": dict(sorted(held.items())),
            "by_survey": {s: dict(sorted(c.items())) for s, c in sorted(by_survey.items())},
            "by_day": {d: {s: dict(sorted(c.items())) for s, c in v.items()} for d, v in by_day.items()},
            "errors": [{"line": line, "error": error} for line, error in self.errors],
            "reminders": self.reminders.to_json() if self.reminders else None,
        }


class Simulation:
    """Feed events in time order with `feed`; read the counts from `report`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.index = TriggerIndex.build(config.triggers, config.surveys, config.throttle)
        send_numbers = itertools.count()
        self.history = History(
            PolicyState(),
            # Opt-outs are what address keys are for, and a replay has none: the address serves as is.
            address_key=lambda _channel, address: address,
            new_send_id=lambda: str(next(send_numbers)),
            forget_cancelled=True,
        )
        self.known: dict[str, _Known] = {}
        self.seen_ids: dict[str, datetime] = {}
        self.report = SimulationReport(reminders=ReminderReplay(config))
        self._since_sweep = 0
        self._clock: datetime | None = None

    def feed_all(self, rows: Iterable[tuple[int, Any]]) -> SimulationReport:
        for line, raw in rows:
            self.feed(line, raw)
        return self.report

    def feed(self, line: int, raw: Any) -> None:
        """Decide one event at its own `occurred_at`; events must come in time order."""
        event = self._accept(line, raw)
        if event is None:
            return
        now = event.occurred_at
        if self._clock is not None and now < self._clock:
            raise ValueError("simulate needs events in time order (see bot.intake.ordering)")
        self._clock = now
        contact, zone = self._remember(event.contact, now)
        self._forget_gone_out(contact.id, now)
        decided = decide_event(event, contact, self.history, self.index, now, zone=zone)
        self._count(event, decided)
        if self.report.reminders:
            self.report.reminders.note(event, decided, self.history.pending, now)
        self._since_sweep += 1
        if self._since_sweep >= max(MIN_SWEEP_EVERY, len(self.known)):
            self.sweep(now)

    def _remember(self, given: ContactIn, now: datetime) -> tuple[ContactIn, ZoneInfo]:
        known = self.known.get(given.id)
        contact = given.merged_over(known.contact if known else None)
        if known and (known.contact.timezone, known.contact.phone) == (contact.timezone, contact.phone):
            zone = known.zone
        else:
            throttle = self.config.throttle
            zone = contact_timezone(contact.timezone, contact.phone, throttle.default_timezone)
        self.known[given.id] = _Known(contact, zone, now)
        return contact, zone

    def _accept(self, line: int, raw: Any) -> EventIn | None:
        try:
            if isinstance(raw, dict) and UNREADABLE in raw:
                raise InvalidEvent("line", raw[UNREADABLE])
            if isinstance(raw, dict) and raw.get("occurred_at") is None:
                raise InvalidEvent("occurred_at", "is required to simulate: each event is replayed at it")
            event = parse_event(raw, datetime.min, self._known_contact(raw))
        except InvalidEvent as exc:
            self.report.note_invalid(line, str(exc))
            return None
        if event.id is not None:
            if event.id in self.seen_ids:
                self.report.events["duplicate"] += 1
                return None
            self.seen_ids[event.id] = event.occurred_at
        self.report.events["accepted"] += 1
        return event

    def _known_contact(self, raw: Any) -> ContactIn | None:
        contact = raw.get("contact") if isinstance(raw, dict) else None
        cid = contact.get("id") if isinstance(contact, dict) else None
        known = self.known.get(cid) if isinstance(cid, str) else None
        return known.contact if known else None

    @property
    def state(self) -> PolicyState:
        """What the gates see of the history so far."""
        return self.history.state

    def _forget_gone_out(self, contact_id: str, now: datetime) -> None:
        """A replay's dispatcher keeps up: a send due by `now` has gone out, past calling off."""
        pending = self.history.pending.get(contact_id)
        if pending and any(p.send.due_at <= now for p in pending):
            pending[:] = [p for p in pending if p.send.due_at > now]

    def _count(self, event: EventIn, decided: EventDecisions) -> None:
        for called_off in decided.cancelled:
            day, survey = called_off.send.due_at.date().isoformat(), called_off.send.survey
            self.report.tally[(day, survey, WOULD_SEND)] -= 1
            self.report.tally[(day, survey, CANCELLED)] += 1
        for decision in decided.decisions:
            if decision.outcome == "suppressed":
                day = event.occurred_at.date().isoformat()
                self.report.tally[(day, decision.survey, decision.reason or "suppressed")] += 1
            elif decision.schedules:
                assert decision.due_at is not None
                self.report.tally[(decision.due_at.date().isoformat(), decision.survey, WOULD_SEND)] += 1
                self.report.deferred += decision.outcome == "deferred"

    def sweep(self, now: datetime) -> None:
        """Forget what the gates can no longer see: history older than the horizon, idle contacts."""
        cutoff = now - self.index.horizon
        sends = self.state.sends
        for cid, known in list(self.known.items()):
            history = [s for s in sends.get(cid, ()) if s.due_at >= cutoff]
            if history:
                sends[cid] = history
                continue
            sends.pop(cid, None)
            if known.last_seen < cutoff:
                del self.known[cid]
        pending = self.history.pending
        for cid in [c for c, items in pending.items() if all(i.send.due_at <= now for i in items)]:
            del pending[cid]
        self.seen_ids = {i: t for i, t in self.seen_ids.items() if t >= now - DEDUPE_WINDOW}
        old_days = [day for day in self.state.daily_counts if day < (cutoff - timedelta(days=1)).date()]
        for day in old_days:
            del self.state.daily_counts[day]
            self.state.added_per_day.pop(day, None)
        if self.report.reminders:
            self.report.reminders.sweep(now)
        self._since_sweep = 0


def simulate_file(config: Config, path: Path, *, fmt: str = "auto") -> SimulationReport:
    """Replay a JSON-lines or CSV file through `config`'s policy, in time order; nothing is stored."""
    fmt = file_format(path, fmt)

    def open_rows() -> Iterator[tuple[int, Any]]:
        with path.open("rb") as raw:
            yield from (read_csv(raw) if fmt == "csv" else read_jsonl(raw))

    def marked_rows() -> Iterator[tuple[int, Any]]:
        for line, item in open_rows():
            yield line, ({UNREADABLE: item.message} if isinstance(item, Unparsable) else item)

    return Simulation(config).feed_all(in_time_order(marked_rows))
