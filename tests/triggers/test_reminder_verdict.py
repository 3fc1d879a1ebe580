"""The re-check of a due reminder: the first reason that holds drops it; quiet hours defer it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from triggers.reminders import DROP_REASONS, ReminderFacts, ReminderVerdict, judge_reminder

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
CLEAR = ReminderFacts(
    configured=True, responded=False, expires_at=NOW + timedelta(days=2), forgotten=False, opted_out=False,
    cancelled=False, delivered=True, has_address=True, superseded=False,
)  # fmt: skip


def test_a_clear_reminder_goes() -> None:
    assert judge_reminder(CLEAR, NOW, None) == ReminderVerdict("send")


def test_quiet_hours_defer_it_to_their_end() -> None:
    end = NOW + timedelta(hours=9)
    assert judge_reminder(CLEAR, NOW, end) == ReminderVerdict("reminder_deferred", "quiet_hours", end)


def test_quiet_hours_lasting_past_the_expiry_drop_it_as_expired() -> None:
    facts = replace(CLEAR, expires_at=NOW + timedelta(hours=3))
    verdict = judge_reminder(facts, NOW, NOW + timedelta(hours=9))
    assert verdict == ReminderVerdict("reminder_dropped", "expired")


def test_with_every_reason_at_once_the_first_in_order_is_recorded() -> None:
    everything = ReminderFacts(
        configured=False, responded=True, expires_at=NOW, forgotten=True, opted_out=True, cancelled=True,
        delivered=False, has_address=False, superseded=True,
    )  # fmt: skip
    assert judge_reminder(everything, NOW, None).reason == DROP_REASONS[0] == "not_configured"
    assert judge_reminder(replace(everything, configured=True), NOW, None).reason == "responded"


def test_each_fact_alone_drops_it_with_its_own_reason() -> None:
    alone = {
        "not_configured": replace(CLEAR, configured=False),
        "responded": replace(CLEAR, responded=True),
        "expired": replace(CLEAR, expires_at=NOW),
        "forgotten": replace(CLEAR, forgotten=True),
        "opted_out": replace(CLEAR, opted_out=True),
        "cancel_on": replace(CLEAR, cancelled=True),
        "not_delivered": replace(CLEAR, delivered=False),
        "no_address": replace(CLEAR, has_address=False),
        "superseded": replace(CLEAR, superseded=True),
    }
    assert list(alone) == list(DROP_REASONS)
    for reason, facts in alone.items():
        assert judge_reminder(facts, NOW, None) == ReminderVerdict("reminder_dropped", reason)
