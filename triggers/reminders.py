"""Whether a due reminder goes: the re-check at its due time, as a pure function.

A send's one reminder is planned when the send goes out (`reminder_scheduled`). When it falls
due, `judge_reminder` looks at what happened since and says `send`, `reminder_deferred` (quiet
hours at the contact: it waits for their end) or `reminder_dropped` with the first reason that
holds, in the order of `DROP_REASONS`. A reminder counts against no gate: it is not a survey.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

ReminderOutcome = Literal["reminder_scheduled", "reminder_deferred", "reminder_dropped"]
REMINDER_OUTCOMES: tuple[ReminderOutcome, ...] = get_args(ReminderOutcome)

# Checked in this order; the first that holds is the reason recorded.
DropReason = Literal[
    "not_configured",  # the survey, or its `reminder`, is no longer in the config
    "responded",  # the survey was answered (a reminder never goes after a response)
    "expired",  # the survey closed, or quiet hours last until it does
    "forgotten",  # the contact was erased (`surveybot forget`)
    "opted_out",  # the address opted out since the first ask
    "cancel_on",  # an event of the trigger's `cancel_on` called the survey off
    "not_delivered",  # the provider reported the first ask undelivered or failed
    "no_address",  # the address is gone
    "superseded",  # a newer survey reached the contact since: remind of that one, not this
]
DROP_REASONS: tuple[DropReason, ...] = get_args(DropReason)


@dataclass(frozen=True)
class ReminderFacts:
    """What is known of a send when its reminder falls due."""

    configured: bool
    responded: bool
    expires_at: datetime | None
    forgotten: bool
    opted_out: bool
    cancelled: bool
    delivered: bool  # the first ask left and no later report says it did not arrive
    has_address: bool
    superseded: bool


@dataclass(frozen=True)
class ReminderVerdict:
    outcome: Literal["send", "reminder_deferred", "reminder_dropped"]
    reason: DropReason | Literal["quiet_hours"] | None = None
    due_at: datetime | None = None


def judge_reminder(facts: ReminderFacts, now: datetime, quiet_end: datetime | None) -> ReminderVerdict:
    """Send the reminder now, defer it to `quiet_end`, or drop it (with why)."""
    held = {
        "not_configured": not facts.configured,
        "responded": facts.responded,
        "expired": _closed(facts.expires_at, now)
        or (quiet_end is not None and _closed(facts.expires_at, quiet_end)),
        "forgotten": facts.forgotten,
        "opted_out": facts.opted_out,
        "cancel_on": facts.cancelled,
        "not_delivered": not facts.delivered,
        "no_address": not facts.has_address,
        "superseded": facts.superseded,
    }
    for reason in DROP_REASONS:
        if held[reason]:
            return ReminderVerdict("reminder_dropped", reason)
    if quiet_end is not None:
        return ReminderVerdict("reminder_deferred", "quiet_hours", quiet_end)
    return ReminderVerdict("send")


def _closed(expires_at: datetime | None, moment: datetime) -> bool:
    return expires_at is not None and moment >= expires_at
