"""`triggers.engine.decide_event`: one event and its history in, decisions out, no database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from bot.config import Config, parse_config
from tests.conftest import BASE_CONFIG
from triggers.engine import History, TriggerIndex, decide_event
from triggers.events import parse_event
from triggers.policy import PolicyState

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def reopen_also_asks(contact_cooldown: str) -> Config:
    """A reopened ticket calls off the CSAT and sets off an NPS of its own."""
    raw = orjson.loads(orjson.dumps(BASE_CONFIG))
    raw["triggers"].append(
        {"name": "nps_on_reopen", "on": "ticket.reopened", "survey": "delivery_nps", "channels": ["email"]}
    )
    raw["throttle"]["contact_cooldown"] = contact_cooldown
    return parse_config(orjson.dumps(raw).decode())


def raw_event(type_: str, at: datetime) -> dict[str, Any]:
    contact = {"id": "c1", "phone": "+12125550100", "email": "c1@example.com"}
    return {
        "type": type_,
        "occurred_at": at.isoformat(),
        "contact": contact,
        "properties": {"ticket_id": "T1"},
    }


def history(*, forget_cancelled: bool) -> History:
    numbers = itertools.count()
    return History(
        PolicyState(),
        address_key=lambda channel, address: f"{channel}:{address}",
        new_send_id=lambda: f"s{next(numbers)}",
        forget_cancelled=forget_cancelled,
    )


def decide(cfg: Config, seen: History, raw: dict[str, Any], now: datetime) -> Any:
    event = parse_event(raw, now)
    return decide_event(
        event, event.contact, seen, TriggerIndex.build(cfg.triggers, cfg.surveys, cfg.throttle), now
    )


def test_the_triggers_an_event_type_sets_off_and_cancels_are_indexed_in_config_order() -> None:
    cfg = reopen_also_asks("0s")
    index = TriggerIndex.build(cfg.triggers, cfg.surveys, cfg.throttle)
    assert [t.name for t in index.set_off_by("ticket.reopened")] == ["nps_on_reopen"]
    assert list(index.cancelled_by("ticket.reopened")) == ["csat_after_ticket"]
    assert index.set_off_by("invoice.paid") == () and index.cancelled_by("ticket.solved") == {}


@pytest.mark.parametrize(("forget_cancelled", "nps"), [(True, "scheduled"), (False, "suppressed")])
def test_an_event_calls_off_first_then_decides_and_a_forgotten_send_stops_counting(
    forget_cancelled: bool, nps: str
) -> None:
    cfg = reopen_also_asks("7d")
    seen = history(forget_cancelled=forget_cancelled)
    [solved] = decide(cfg, seen, raw_event("ticket.solved", T0), T0).decisions
    assert (solved.outcome, solved.send_id) == ("scheduled", "s0")
    later = T0 + timedelta(hours=1)
    decided = decide(cfg, seen, raw_event("ticket.reopened", later), later)
    cancel, nps_decision = decided.decisions
    assert (cancel.trigger, cancel.outcome, cancel.reason, cancel.send_id) == (
        "csat_after_ticket",
        "cancelled",
        "cancel_on",
        "s0",
    )
    assert [p.send_id for p in decided.cancelled] == ["s0"] and seen.pending == {"c1": []}
    # A replay forgets the cancelled send at once; ingestion counts it until its batch is stored.
    assert (nps_decision.trigger, nps_decision.outcome) == ("nps_on_reopen", nps)
