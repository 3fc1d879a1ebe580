"""Outcomes: events that are behaviours (a cancellation, a repeat order), followed after answers.

`outcomes:` in the config names each one: the event type that is the outcome (`on`), how long
after a response it is looked for (`within`), and for `churn` the event types that make a
contact a customer (`base`). `FollowUp` is the value storage keeps its follow-ups by; the
score bands the outcomes are read in are `score_band` (see docs/outcomes.md). No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from triggers.metrics import METRICS, NPS_PASSIVE
from triggers.settings import Duration, Section

CHURN = "churn"
DEFAULT_BASE = ("subscription.started", "checkout.completed")
NAME = r"^[A-Za-z0-9_.-]+$"
EVENT_TYPE = r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$"
Band = Literal["low", "middle", "high"]
BANDS: tuple[Band, ...] = ("low", "middle", "high")


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


class OutcomeConfig(Section):
    """One entry of `outcomes:`; `base` is read for `churn` only (who counts as a customer)."""

    on: str = Field(pattern=EVENT_TYPE)
    within: Duration
    base: Annotated[list[Annotated[str, Field(pattern=EVENT_TYPE)]], BeforeValidator(_one_or_many)] | None = (
        Field(default=None, min_length=1)
    )

    @field_validator("within", mode="after")
    @classmethod
    def _positive(cls, within: timedelta) -> timedelta:
        if within <= timedelta(0) or within % timedelta(seconds=1):
            raise ValueError(
                "must be a positive whole number of seconds like 90d (how long after a response to look)"
            )
        return within

    def follow_up(self, name: str) -> FollowUp:
        base = tuple(self.base) if self.base else DEFAULT_BASE
        return FollowUp(name, self.on, self.within, base if name == CHURN else ())


@dataclass(frozen=True)
class FollowUp:
    """An outcome as storage keeps it: `name` happened when the contact had an `on` event with
    occurred_at in (answered, answered + within]. `base` (churn only) makes a customer."""

    name: str
    on: str
    within: timedelta
    base: tuple[str, ...] = ()

    def watched_types(self) -> set[str]:
        return {self.on, *self.base}


def follow_ups(outcomes: Mapping[str, OutcomeConfig]) -> list[FollowUp]:
    return [outcome.follow_up(name) for name, outcome in sorted(outcomes.items())]


def outcome_problems(outcomes: Mapping[str, OutcomeConfig]) -> list[str]:
    """What pydantic cannot see alone: `base` set where it is never read."""
    problems = [
        f"outcomes.{name}: {name!r} is not a name like churn (letters, digits and _ . - only)"
        for name in outcomes
        if not re.match(NAME, name)
    ]
    problems += [
        f"outcomes.{name}.base: is read only for churn (who counts as a customer); remove it here"
        for name, outcome in outcomes.items()
        if outcome.base is not None and name != CHURN
    ]
    return problems


def score_band(metric: str, score: int, low_threshold: int) -> Band:
    """CSAT/CES low (at or below the survey's threshold), middle, high (favourable); NPS
    detractor, passive, promoter by the same words (low, middle, high)."""
    if score <= low_threshold:
        return "low"
    favourable = METRICS[metric].favourable_from
    if metric == "nps" and score in NPS_PASSIVE and score < favourable:
        return "middle"
    return "high" if score >= favourable else "middle"
