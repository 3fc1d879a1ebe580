"""An event and the history in, decisions out: the one core that ingestion and the replay share.

`decide_event` takes one event with what is known before it (a `History`): it calls off the
pending sends the event cancels (`cancel_on`), then runs the gates (`triggers.policy.decide`)
for every trigger the event sets off, in config order. What it decides is added to the history,
so the next event sees it. Callers gather the history (ingestion from the database for a whole
batch, the replay in memory), then store or count what comes out; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from triggers.events import ContactIn, EventIn
from triggers.outcomes import Outcome, Reason
from triggers.policy import AddressKey, PastSend, PolicyState, decide, history_horizon, lookback
from triggers.rules import cancel_key, cancels
from triggers.settings import SurveyConfig, ThrottleConfig, TriggerConfig


@dataclass(frozen=True)
class TriggerIndex:
    """The policy as `decide_event` looks it up, built once from the config."""

    surveys: Mapping[str, SurveyConfig]
    throttle: ThrottleConfig
    set_off: Mapping[str, tuple[TriggerConfig, ...]]  # event type -> triggers, in config order
    cancelling: Mapping[str, Mapping[str, TriggerConfig]]  # cancel_on type -> trigger name -> trigger
    horizon: timedelta  # how long the replay keeps history (`history_horizon`)
    lookback: timedelta  # how far either side of a send the gates look (`policy.lookback`)
    longest_delay: timedelta  # of any trigger: how far after its event a send may be due

    @classmethod
    def build(
        cls, triggers: Iterable[TriggerConfig], surveys: Mapping[str, SurveyConfig], throttle: ThrottleConfig
    ) -> TriggerIndex:
        set_off: dict[str, list[TriggerConfig]] = {}
        cancelling: dict[str, dict[str, TriggerConfig]] = {}
        triggers_seen = list(triggers)
        for trigger in triggers_seen:
            set_off.setdefault(trigger.on, []).append(trigger)
            if trigger.cancel_on:
                cancelling.setdefault(trigger.cancel_on.type, {})[trigger.name] = trigger
        return cls(
            surveys=dict(surveys),
            throttle=throttle,
            set_off={on: tuple(found) for on, found in set_off.items()},
            cancelling=cancelling,
            horizon=history_horizon(throttle, list(surveys.values())),
            lookback=lookback(throttle, list(surveys.values())),
            longest_delay=max((t.delay for t in triggers_seen), default=timedelta(0)),
        )

    def set_off_by(self, event_type: str) -> tuple[TriggerConfig, ...]:
        """The triggers an event of this type sets off."""
        return self.set_off.get(event_type, ())

    def channels_of(self, event_types: Iterable[str]) -> tuple[str, ...]:
        """The channels the triggers these event types set off may choose, in a stable order."""
        found = {
            channel for t in event_types for trigger in self.set_off_by(t) for channel in trigger.channels
        }
        return tuple(sorted(found))

    def cancelled_by(self, event_type: str) -> Mapping[str, TriggerConfig]:
        """By name, the triggers whose pending sends an event of this type may call off."""
        return self.cancelling.get(event_type, {})


@dataclass(frozen=True, slots=True)
class PendingSend:
    """A send not gone out yet, which a later `cancel_on` event may still call off."""

    send_id: str
    event_ref: str  # the event that set it off, as the caller knows it
    trigger: str
    contact_id: str
    key: tuple[Any, ...] | None  # its event's values at `cancel_on.match` (`cancel_key`)
    send: PastSend  # the send as the gates count it


@dataclass
class History:
    """What `decide_event` reads and adds to: the gates' state and, per contact, the pending sends.

    The caller keeps `pending` to sends not gone out yet. `address_key` makes the key opt-outs
    are kept under; `new_send_id` names each send scheduled. `forget_cancelled`: whether a send
    called off stops counting against the gates at once. A replay's cancels are final; ingestion
    keeps counting the send for the rest of its batch, since the cancel is only sure once
    written (the dispatcher may have taken the send meanwhile).
    """

    state: PolicyState
    address_key: AddressKey
    new_send_id: Callable[[], str]
    pending: dict[str, list[PendingSend]] = field(default_factory=dict)
    forget_cancelled: bool = False


class TriggerDecision(NamedTuple):
    """What one trigger came to for one event, or a send an event called off (`cancelled`).

    A send scheduled or deferred has `send_id`, `due_at`, `channel` and `to`; a cancelled one
    names the send called off in `send_id`, and `event_ref` is the event that set it off.
    """

    event_ref: str
    contact_id: str
    trigger: str
    survey: str
    outcome: Outcome
    reason: Reason | None = None
    send_id: str | None = None
    due_at: datetime | None = None
    channel: str | None = None
    to: str | None = None
    detail: str | None = None  # a deferral's quiet hours: the zone used and where it came from

    @property
    def schedules(self) -> bool:
        """Whether this decision makes a new send (scheduled or deferred)."""
        return self.outcome == "scheduled" or self.outcome == "deferred"


class EventDecisions(NamedTuple):
    """All one event came to: the sends it called off, then one decision per trigger it set off."""

    decisions: list[TriggerDecision]
    cancelled: list[PendingSend]  # the sends called off, as they were pending

    def due_by(self, now: datetime) -> bool:
        """Whether a send this event schedules is due by `now`."""
        return any(d.schedules and d.due_at is not None and d.due_at <= now for d in self.decisions)


def decide_event(
    event: EventIn,
    contact: ContactIn,
    history: History,
    index: TriggerIndex,
    now: datetime,
    *,
    event_ref: str = "",
    zone: ZoneInfo | None = None,
) -> EventDecisions:
    """Decide one event at `now` against `history`, and add what was decided to it.

    `contact` is the event's contact merged over what is known of it; `zone` its time zone when
    the caller already knows it; `event_ref` names the event in the decisions and sends it makes.
    """
    triggers = index.cancelled_by(event.type)
    cancelled = _call_off(event, history, triggers) if triggers else []
    decisions = [_cancellation(p, triggers[p.trigger]) for p in cancelled]
    for trigger in index.set_off_by(event.type):
        decisions.append(_decide_trigger(event, contact, trigger, history, index, now, event_ref, zone))
    return EventDecisions(decisions, cancelled)


def _call_off(event: EventIn, history: History, triggers: Mapping[str, TriggerConfig]) -> list[PendingSend]:
    """The contact's pending sends that this event cancels (for `triggers`, the triggers its type
    may call off), taken out of `history`."""
    pending = history.pending.get(event.contact.id)
    if not pending:
        return []
    document = event.document()
    hits = [p for p in pending if p.trigger in triggers and cancels(triggers[p.trigger], p.key, document)]
    for hit in hits:
        pending.remove(hit)
        if history.forget_cancelled:
            history.state.sends[hit.contact_id].remove(hit.send)
    return hits


def _cancellation(pending: PendingSend, trigger: TriggerConfig) -> TriggerDecision:
    return TriggerDecision(
        pending.event_ref,
        pending.contact_id,
        pending.trigger,
        trigger.survey,
        "cancelled",
        "cancel_on",
        pending.send_id,
    )


def _decide_trigger(
    event: EventIn,
    contact: ContactIn,
    trigger: TriggerConfig,
    history: History,
    index: TriggerIndex,
    now: datetime,
    event_ref: str,
    zone: ZoneInfo | None,
) -> TriggerDecision:
    survey = index.surveys[trigger.survey]
    verdict = decide(
        event, contact, trigger, survey, index.throttle, history.state, now, history.address_key, zone
    )
    names = (event_ref, contact.id, trigger.name, trigger.survey)
    if verdict.outcome == "suppressed":
        return TriggerDecision(*names, verdict.outcome, verdict.reason)
    assert verdict.due_at is not None and verdict.channel is not None
    send_id = history.new_send_id()
    if trigger.cancel_on:
        key = cancel_key(trigger, event.document())
        send = PastSend(trigger.survey, verdict.due_at)
        history.pending.setdefault(contact.id, []).append(
            PendingSend(send_id, event_ref, trigger.name, contact.id, key, send)
        )
    return TriggerDecision(
        *names, verdict.outcome, verdict.reason, send_id, verdict.due_at, verdict.channel, verdict.to,
        verdict.detail,
    )  # fmt: skip
