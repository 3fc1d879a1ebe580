"""The throttle gates as pure decisions: their order, per-survey overrides, surveys side by side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from bot.config import Config, parse_config
from bot.intake.simulate import Simulation
from tests.conftest import BASE_CONFIG
from triggers.events import parse_event
from triggers.policy import PastSend, PolicyState, decide

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York


def config(**throttle: Any) -> Config:
    raw = {**BASE_CONFIG, "throttle": {**BASE_CONFIG["throttle"], **throttle}}
    return parse_config(orjson.dumps(raw).decode())


def verdict(
    cfg: Config, state: PolicyState, raw: dict[str, Any], now: datetime = T0, trigger: int = 0
) -> Any:
    event = parse_event(raw, now)
    chosen = cfg.triggers[trigger]
    return decide(
        event,
        event.contact,
        chosen,
        cfg.surveys[chosen.survey],
        cfg.throttle,
        state,
        now,
        lambda channel, address: f"{channel}:{address}",
    )


def raw_event(contact: str = "c1", at: datetime = T0, **contact_fields: Any) -> dict[str, Any]:
    fields = {"id": contact, "phone": "+12125550100", **contact_fields}
    return {"type": "ticket.solved", "occurred_at": at.isoformat(), "contact": fields}


def test_the_first_gate_that_stops_a_send_is_the_reason() -> None:
    cfg = config(survey_cooldown="30d", contact_cooldown="7d", max_per_contact={"count": 1, "per": "90d"})
    state = PolicyState(opted_out={"sms:+12125550100"})
    assert verdict(cfg, state, raw_event()).reason == "opted_out"
    assert verdict(cfg, PolicyState(), raw_event(phone=None)).reason == "no_address"
    state = PolicyState()
    state.sends["c1"].append(PastSend("support_csat", T0 - timedelta(days=1)))
    assert verdict(cfg, state, raw_event()).reason == "survey_cooldown"
    state.sends["c1"] = [PastSend("delivery_nps", T0 - timedelta(days=1))]
    assert verdict(cfg, state, raw_event()).reason == "contact_cooldown"
    state.sends["c1"] = [PastSend("delivery_nps", T0 - timedelta(days=20))]
    assert verdict(cfg, state, raw_event()).reason == "contact_cap"
    capped = config(daily_cap=0)
    assert verdict(capped, PolicyState(), raw_event()).reason == "daily_cap"


def test_stale_conditions_and_sampling_come_before_the_cooldowns() -> None:
    raw = {
        **BASE_CONFIG,
        "triggers": [
            {
                "name": "t",
                "on": "ticket.solved",
                "survey": "support_csat",
                "channels": ["sms"],
                "max_age": "1h",
                "when": {"properties.priority": "high"},
                "sample": 0.000001,
            }
        ],
        "throttle": {**BASE_CONFIG["throttle"], "survey_cooldown": "30d"},
    }
    cfg = parse_config(orjson.dumps(raw).decode())
    state = PolicyState()
    state.sends["c1"].append(PastSend("support_csat", T0))
    old = raw_event(at=T0 - timedelta(hours=2))
    assert verdict(cfg, state, old).reason == "stale"
    assert verdict(cfg, state, raw_event()).reason == "conditions"
    assert verdict(cfg, state, {**raw_event(), "properties": {"priority": "high"}}).reason == "sampled_out"


def test_cooldowns_count_sends_already_scheduled_in_the_future() -> None:
    cfg = config(survey_cooldown="30d")
    state = PolicyState()
    first = verdict(cfg, state, raw_event())
    assert first.outcome == "scheduled"
    again = verdict(cfg, state, raw_event(), now=T0 + timedelta(minutes=1))
    assert again.reason == "survey_cooldown"


def test_a_survey_override_of_zero_means_no_cooldown_not_the_default() -> None:
    raw = orjson.loads(orjson.dumps(BASE_CONFIG))
    raw["throttle"]["survey_cooldown"] = "30d"
    raw["surveys"]["support_csat"]["survey_cooldown"] = "0s"
    cfg = parse_config(orjson.dumps(raw).decode())
    state = PolicyState()
    assert verdict(cfg, state, raw_event()).outcome == "scheduled"
    assert verdict(cfg, state, raw_event(), now=T0 + timedelta(hours=1)).outcome == "scheduled"


def nps_and_weekly_csat(nps_contact_cooldown: str | None) -> Config:
    """Daily solved tickets (CSAT at most weekly) and a monthly delivery (NPS at most quarterly)."""
    raw = orjson.loads(orjson.dumps(BASE_CONFIG))
    raw["surveys"]["support_csat"]["survey_cooldown"] = "7d"
    nps = raw["surveys"]["delivery_nps"]
    nps["survey_cooldown"] = "90d"
    if nps_contact_cooldown:
        nps["contact_cooldown"] = nps_contact_cooldown
    raw["throttle"] = {
        "contact_cooldown": "7d",
        "survey_cooldown": "30d",
        "max_per_contact": None,
        "daily_cap": None,
    }
    return parse_config(orjson.dumps(raw).decode())


def replay_a_year(cfg: Config) -> dict[str, Any]:
    simulation = Simulation(cfg)
    contact = {"id": "c1", "phone": "+12125550100", "email": "c1@example.com"}
    for day in range(365):
        at = T0 + timedelta(days=day)
        simulation.feed(day, {"type": "ticket.solved", "occurred_at": at.isoformat(), "contact": contact})
        if day % 30 == 3:
            later = (at + timedelta(hours=2)).isoformat()
            simulation.feed(day, {"type": "order.delivered", "occurred_at": later, "contact": contact})
    return simulation.report.to_json()["by_survey"]


def test_a_weekly_csat_shuts_out_a_quarterly_nps_when_both_keep_seven_days() -> None:
    by_survey = replay_a_year(nps_and_weekly_csat(None))
    assert "would_send" not in by_survey["delivery_nps"]
    assert by_survey["delivery_nps"]["contact_cooldown"] == 13


def test_an_nps_with_a_shorter_contact_cooldown_gets_through_every_quarter() -> None:
    by_survey = replay_a_year(nps_and_weekly_csat("2d"))
    # Deliveries on days 3, 33, 63, ...: the NPS goes on days 3, 93, 183, 273 and 363.
    assert by_survey["delivery_nps"] == {"survey_cooldown": 8, "would_send": 5}
    # Each NPS costs the weekly CSAT at most a few days: still about one a week.
    assert by_survey["support_csat"]["would_send"] >= 45


@pytest.mark.parametrize("count", [1, 3])
def test_a_survey_cap_override_counts_every_survey_to_the_contact(count: int) -> None:
    raw = orjson.loads(orjson.dumps(BASE_CONFIG))
    raw["surveys"]["support_csat"]["max_per_contact"] = {"count": count, "per": "30d"}
    cfg = parse_config(orjson.dumps(raw).decode())
    state = PolicyState()
    state.sends["c1"] = [PastSend("delivery_nps", T0 - timedelta(days=d)) for d in (1, 2)]
    expected = "contact_cap" if count <= 2 else None
    assert verdict(cfg, state, raw_event()).reason == expected


@pytest.mark.parametrize(
    ("contact", "source"),
    [
        ({"timezone": "America/New_York", "phone": None, "email": "a@example.com"}, "the contact's timezone"),
        ({}, "the phone number's region"),  # +1 212: New York
        ({"phone": None, "email": "a@example.com"}, "throttle.default_timezone"),
    ],
    ids=["contact", "phone", "default"],
)
def test_a_deferral_says_quiet_hours_with_the_zone_and_where_it_came_from(
    contact: dict[str, Any], source: str
) -> None:
    cfg = config(quiet_hours={"start": "09:00", "end": "11:00"}, default_timezone="America/New_York")
    result = verdict(cfg, PolicyState(), raw_event(**contact))  # 10:00 in New York
    assert (result.outcome, result.reason) == ("deferred", "quiet_hours")
    assert result.detail == f"America/New_York, from {source}"
    assert result.due_at == T0 + timedelta(hours=1)


def test_a_send_outside_quiet_hours_has_no_reason() -> None:
    cfg = config(quiet_hours={"start": "20:00", "end": "09:00"})
    result = verdict(cfg, PolicyState(), raw_event(timezone="America/New_York"))
    assert (result.outcome, result.reason, result.detail) == ("scheduled", None, None)
