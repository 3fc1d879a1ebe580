"""Invariants of the policy for any sequence of events (hypothesis), through the shared gate code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import Config, parse_config
from bot.intake.simulate import Simulation
from tests.conftest import BASE_CONFIG
from triggers.events import parse_event
from triggers.policy import PolicyState, decide
from triggers.quiet_hours import _inside, contact_timezone

START = datetime(2026, 3, 1, tzinfo=UTC)
ZONES = [None, "America/New_York", "Europe/Berlin", "Asia/Kolkata"]
PHONES = [None, "+12125550100", "+4930901820"]


def policy() -> Config:
    raw = orjson.loads(orjson.dumps(BASE_CONFIG))
    raw["triggers"][0]["sample"] = 0.7
    raw["triggers"][1]["channels"] = ["email", "sms"]
    raw["surveys"]["delivery_nps"]["question"]["sms"] = "0-10?"
    raw["throttle"] = {
        "contact_cooldown": "1d",
        "survey_cooldown": "3d",
        "max_per_contact": {"count": 2, "per": "7d"},
        "daily_cap": 5,
        "quiet_hours": {"start": "21:00", "end": "08:00"},
        "default_timezone": "Europe/London",
    }
    return parse_config(orjson.dumps(raw).decode())


CONFIG = policy()

event_steps = st.lists(
    st.tuples(
        st.integers(0, 5),  # contact
        st.sampled_from(["ticket.solved", "order.delivered", "ticket.reopened"]),
        st.integers(0, 36 * 60),  # minutes since the previous event
    ),
    max_size=60,
)


def as_events(steps: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
    """Each contact keeps one zone and phone (a zone that changes later is the dispatcher's to see)."""
    at, events = START, []
    for who, kind, gap in steps:
        zone, phone = ZONES[who % len(ZONES)], PHONES[who % len(PHONES)]
        at += timedelta(minutes=gap)
        contact: dict[str, Any] = {"id": f"c{who}", "email": f"c{who}@example.com"}
        if zone:
            contact["timezone"] = zone
        if phone:
            contact["phone"] = phone
        events.append(
            {
                "type": kind,
                "occurred_at": at.isoformat(),
                "contact": contact,
                "properties": {"ticket_id": "T"},
            }
        )
    return events


def replay(events: list[dict[str, Any]]) -> Simulation:
    simulation = Simulation(CONFIG)
    simulation.feed_all(enumerate(events))
    return simulation


@settings(max_examples=300, deadline=None)
@given(event_steps)
def test_no_contact_is_ever_over_surveyed(steps: list[Any]) -> None:
    simulation = replay(as_events(steps))
    limits, cap = CONFIG.throttle, CONFIG.throttle.max_per_contact
    assert cap is not None
    per_day: dict[Any, int] = {}
    for cid, history in simulation.state.sends.items():
        ordered = sorted(history, key=lambda s: s.due_at)
        for i, send in enumerate(ordered):
            per_day[send.due_at.date()] = per_day.get(send.due_at.date(), 0) + 1
            for later in ordered[i + 1 :]:
                gap = later.due_at - send.due_at
                assert gap >= limits.contact_cooldown
                if later.survey == send.survey:
                    assert gap >= limits.survey_cooldown
            in_window = [s for s in ordered if send.due_at <= s.due_at < send.due_at + cap.per]
            assert len(in_window) <= cap.count
            contact = simulation.known[cid].contact
            zone = contact_timezone(contact.timezone, contact.phone, limits.default_timezone)
            assert limits.quiet_hours is not None
            assert not _inside(send.due_at.astimezone(zone).time(), limits.quiet_hours)
    assert all(count <= (limits.daily_cap or 0) for count in per_day.values())


@settings(max_examples=100, deadline=None)
@given(event_steps)
def test_replays_agree_so_sampling_is_stable(steps: list[Any]) -> None:
    events = as_events(steps)
    assert replay(events).report.to_json() == replay(events).report.to_json()


@settings(max_examples=200, deadline=None)
@given(event_steps, st.sampled_from(["sms", "email", "both"]))
def test_nothing_is_scheduled_to_an_opted_out_address(steps: list[Any], opted: str) -> None:
    key = lambda channel, address: f"{channel}:{address}"  # noqa: E731
    state = PolicyState()
    for raw in as_events(steps):
        event = parse_event(raw, START)
        contact = event.contact
        out = {key(c, a) for c in ("sms", "email") if opted in (c, "both") and (a := contact.address(c))}
        state.opted_out |= out
        for trigger in CONFIG.triggers:
            if trigger.on != event.type:
                continue
            verdict = decide(
                event,
                contact,
                trigger,
                CONFIG.surveys[trigger.survey],
                CONFIG.throttle,
                state,
                event.occurred_at,
                key,
            )
            if verdict.channel is not None:
                assert key(verdict.channel, verdict.to or "") not in state.opted_out
