"""One trigger, one event: scheduled, deferred or suppressed, and why.

The gates run in this order and the first that stops a send is the reason recorded
(`triggers.outcomes.GATES`):
  opted_out, no_address, stale, conditions, sampled_out,
  survey_cooldown, contact_cooldown, contact_cap, daily_cap.
Quiet hours never stop a send: they defer it to the end of the contact's quiet window.

`PolicyState` is the part of history the gates need; storage loads it for a whole batch and
`decide` updates it as sends are scheduled, so events later in the same batch see them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from triggers.events import ContactIn, EventIn
from triggers.outcomes import GateReason, Outcome, Reason
from triggers.quiet_hours import contact_timezone, end_of_quiet_hours, quiet_hours_detail
from triggers.rules import conditions_hold, in_sample
from triggers.settings import Cap, SurveyConfig, ThrottleConfig, TriggerConfig


class PastSend(NamedTuple):
    """A send that counts against the policy: scheduled, in flight or gone out."""

    survey: str
    due_at: datetime


@dataclass
class PolicyState:
    sends: dict[str, list[PastSend]] = field(default_factory=lambda: defaultdict(list))
    opted_out: set[str] = field(default_factory=set)
    daily_counts: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    added_per_day: dict[date, int] = field(default_factory=lambda: defaultdict(int))

    def record(self, contact_id: str, send: PastSend, *, per_day: bool) -> None:
        """Count `send` for its contact and, with `per_day` (a daily cap is set), for its day:
        without a cap no gate reads the day's total, and its first read costs a query."""
        self.sends[contact_id].append(send)
        if per_day:
            day = send.due_at.date()
            self.daily_counts[day] += 1
            self.added_per_day[day] += 1


class Verdict(NamedTuple):
    """What the gates came to for one trigger and event.

    This and the other values made for every event (`PastSend`, `TriggerDecision`) are named
    tuples, not frozen dataclasses: as immutable, and a frozen dataclass costs 5-8 times as much
    to make (each field set through `object.__setattr__`), a few microseconds an event."""

    outcome: Outcome  # scheduled, deferred or suppressed: cancelling is not a gate's to do
    reason: Reason | None = None  # the gate that suppressed it, or quiet_hours for a deferral
    channel: str | None = None
    to: str | None = None
    due_at: datetime | None = None
    detail: str | None = None  # for people: the zone a deferral used and where it came from


@dataclass(frozen=True)
class Limits:
    """The throttle as it applies to one survey, its overrides applied."""

    survey_cooldown: timedelta
    contact_cooldown: timedelta
    cap: Cap | None
    daily_cap: int | None

    @classmethod
    def for_survey(cls, throttle: ThrottleConfig, survey: SurveyConfig) -> Limits:
        # `is None`, not `or`: an override of 0s is a real value (no cooldown), not "unset".
        return cls(
            survey_cooldown=_first(survey.survey_cooldown, throttle.survey_cooldown),
            contact_cooldown=_first(survey.contact_cooldown, throttle.contact_cooldown),
            cap=survey.max_per_contact if survey.max_per_contact is not None else throttle.max_per_contact,
            daily_cap=throttle.daily_cap,
        )


def _first(override: timedelta | None, default: timedelta) -> timedelta:
    return default if override is None else override


AddressKey = Callable[[str, str], str]
_LIMITS: dict[tuple[int, int], tuple[ThrottleConfig, SurveyConfig, Limits]] = {}


def _limits(throttle: ThrottleConfig, survey: SurveyConfig) -> Limits:
    """`Limits.for_survey`, remembered: configs are frozen and the gates ask for every event."""
    cached = _LIMITS.get((id(throttle), id(survey)))
    if cached is not None and cached[0] is throttle and cached[1] is survey:
        return cached[2]
    if len(_LIMITS) > 256:
        _LIMITS.clear()
    limits = Limits.for_survey(throttle, survey)
    _LIMITS[(id(throttle), id(survey))] = (throttle, survey, limits)
    return limits


def decide(
    event: EventIn,
    contact: ContactIn,
    trigger: TriggerConfig,
    survey: SurveyConfig,
    throttle: ThrottleConfig,
    state: PolicyState,
    now: datetime,
    address_key: AddressKey,
    zone: ZoneInfo | None = None,
) -> Verdict:
    """Run the gates for one trigger; a send that passes is recorded in `state`.

    `zone` is the contact's time zone when the caller already knows it (see `contact_timezone`).
    """
    channel, to, reason = choose_channel(contact, trigger.channels, state.opted_out, address_key)
    if reason:
        return Verdict("suppressed", reason)
    if trigger.max_age is not None and now - event.occurred_at > trigger.max_age:
        return Verdict("suppressed", "stale", channel, to)
    if trigger.when and not conditions_hold(trigger.when, event.document()):
        return Verdict("suppressed", "conditions", channel, to)
    if not in_sample(contact.id, trigger.survey, trigger.sample):
        return Verdict("suppressed", "sampled_out", channel, to)
    due_at = max(event.occurred_at + trigger.delay, now)
    quiet_end = None
    if throttle.quiet_hours is not None:
        zone = zone or contact_timezone(contact.timezone, contact.phone, throttle.default_timezone)
        quiet_end = end_of_quiet_hours(due_at, zone, throttle.quiet_hours)
    if quiet_end is not None:
        due_at = quiet_end
    limits = _limits(throttle, survey)
    if reason := throttle_reason(state, contact.id, trigger.survey, due_at, limits):
        return Verdict("suppressed", reason, channel, to, due_at)
    state.record(contact.id, PastSend(trigger.survey, due_at), per_day=limits.daily_cap is not None)
    if quiet_end is None:
        return Verdict("scheduled", None, channel, to, due_at)
    assert zone is not None
    detail = quiet_hours_detail(zone, contact.timezone, contact.phone)
    return Verdict("deferred", "quiet_hours", channel, to, due_at, detail)


def choose_channel(
    contact: ContactIn, channels: Sequence[str], opted_out: set[str], address_key: AddressKey
) -> tuple[str | None, str | None, GateReason | None]:
    """The first channel with an address not opted out; else the reason there is none."""
    any_address = False
    for channel in channels:
        address = contact.address(channel)
        if not address:
            continue
        any_address = True
        if not opted_out or address_key(channel, address) not in opted_out:
            return channel, address, None
    return None, None, "opted_out" if any_address else "no_address"


def throttle_reason(
    state: PolicyState, contact_id: str, survey: str, due_at: datetime, limits: Limits
) -> GateReason | None:
    """The first cooldown or cap a send at `due_at` would break, or None."""
    if history := state.sends.get(contact_id):  # most contacts of a batch have none
        if any(p.survey == survey and abs(p.due_at - due_at) < limits.survey_cooldown for p in history):
            return "survey_cooldown"
        if any(abs(p.due_at - due_at) < limits.contact_cooldown for p in history):
            return "contact_cooldown"
        # Conservative cap: count every send within `per` either side, so no window of length
        # `per` can ever hold more than `count`.
        cap = limits.cap
        if cap and sum(abs(p.due_at - due_at) < cap.per for p in history) >= cap.count:
            return "contact_cap"
    if limits.daily_cap is not None and state.daily_counts[due_at.date()] >= limits.daily_cap:
        return "daily_cap"
    return None


def history_horizon(throttle: ThrottleConfig, surveys: list[SurveyConfig]) -> timedelta:
    """How long the replay keeps what it has seen: the gates' `lookback`, and at least a day."""
    return max(lookback(throttle, surveys), timedelta(days=1))


def lookback(throttle: ThrottleConfig, surveys: list[SurveyConfig]) -> timedelta:
    """The widest span either side of a send's time in which a gate looks at other sends (the
    longest cooldown or cap window of any survey); zero when no gate reads history at all."""
    spans = [timedelta(0)]
    for limits in (Limits.for_survey(throttle, s) for s in surveys):
        spans += [limits.survey_cooldown, limits.contact_cooldown]
        if limits.cap:
            spans.append(limits.cap.per)
    return max(spans)
