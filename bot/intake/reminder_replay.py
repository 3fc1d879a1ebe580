"""The reminders a `simulate` replay would send: one per survey that would go out, for surveys
with a `reminder`, unless the send is called off first or a `cancel_on` event comes before the
reminder is due.

A replay has no replies, so it cannot know who would answer: it assumes nobody does, and the
count is the most reminders the policy would send. Quiet hours, which only defer a reminder,
are not replayed for it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config import Config
from bot.texts.reminders import SIMULATION_ASSUMPTION
from triggers.engine import EventDecisions, PendingSend
from triggers.events import EventIn
from triggers.rules import cancels


@dataclass(frozen=True, slots=True)
class _Planned:
    send_id: str
    survey: str
    trigger: str
    key: tuple[Any, ...] | None  # the send's event's values at `cancel_on.match`
    send_due: datetime
    due: datetime


class ReminderReplay:
    def __init__(self, config: Config) -> None:
        self.after = {name: s.reminder.after for name, s in config.surveys.items() if s.reminder}
        self.triggers = {t.name: t for t in config.triggers}
        self.planned: dict[str, list[_Planned]] = {}
        self.would_send: Counter[str] = Counter()
        self.called_off: Counter[str] = Counter()

    def note(
        self, event: EventIn, decided: EventDecisions, pending: dict[str, list[PendingSend]], now: datetime
    ) -> None:
        """Count what one decided event does to reminders: plans new ones, calls some off."""
        if not self.after:
            return
        contact = event.contact.id
        mine = [p for p in self.planned.get(contact, ()) if p.due > now]
        gone = {p.send_id for p in decided.cancelled}
        document = event.document()
        kept = []
        for planned in mine:
            if planned.send_id in gone:
                self.would_send[planned.survey] -= 1  # its send never left: nor will its reminder
            elif planned.send_due <= now and self._calls_off(planned, document):
                self.would_send[planned.survey] -= 1
                self.called_off[planned.survey] += 1
            else:
                kept.append(planned)
        kept += self._plan(decided, pending.get(contact, ()))
        if kept:
            self.planned[contact] = kept
        else:
            self.planned.pop(contact, None)

    def _calls_off(self, planned: _Planned, document: dict[str, Any]) -> bool:
        trigger = self.triggers[planned.trigger]
        cancel = trigger.cancel_on
        return (
            cancel is not None and cancel.type == document["type"] and cancels(trigger, planned.key, document)
        )

    def _plan(self, decided: EventDecisions, pending: Any) -> list[_Planned]:
        keys = {p.send_id: p.key for p in pending}
        planned = []
        for d in decided.decisions:
            if d.schedules and d.survey in self.after and d.send_id is not None and d.due_at is not None:
                due = d.due_at + self.after[d.survey]
                planned.append(_Planned(d.send_id, d.survey, d.trigger, keys.get(d.send_id), d.due_at, due))
                self.would_send[d.survey] += 1
        return planned

    def sweep(self, now: datetime) -> None:
        """Forget reminders already due: nothing can call them off any more."""
        for contact, items in list(self.planned.items()):
            left = [p for p in items if p.due > now]
            if left:
                self.planned[contact] = left
            else:
                del self.planned[contact]

    def to_json(self) -> dict[str, Any]:
        return {
            "would_send": sum(self.would_send.values()),
            "called_off_by_cancel_on": sum(self.called_off.values()),
            "by_survey": {s: n for s, n in sorted(self.would_send.items()) if n},
            "assumes": SIMULATION_ASSUMPTION,
        }
