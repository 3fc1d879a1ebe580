"""Prometheus metrics, one registry per running bot (no global state, so tests stay apart).

Counters are per process; with several `surveybot run` processes, scrape each and sum.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter(
            "surveybot_events", "Events taken in, by how they were judged", ["status"], registry=self.registry
        )
        self.decisions = Counter(
            "surveybot_decisions", "Trigger decisions, by outcome and reason", ["outcome", "reason"],
            registry=self.registry,
        )  # fmt: skip
        self.sends = Counter(
            "surveybot_sends", "Sends settled by dispatch, by channel and status", ["channel", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.provider_seconds = Histogram(
            "surveybot_provider_seconds", "Time the provider took to answer a send", ["channel"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=self.registry,
        )  # fmt: skip
        self.responses = Counter(
            "surveybot_responses", "Scores recorded, by channel and survey", ["channel", "survey"],
            registry=self.registry,
        )  # fmt: skip
        self.source_deliveries = Counter(
            "surveybot_source_deliveries",
            "Vendor webhook deliveries, by source and outcome (taken, ignored, refused_signature, "
            "refused_stale, missing_field, unreadable)", ["source", "outcome"], registry=self.registry,
        )  # fmt: skip
        self.outbox_attempts = Counter(
            "surveybot_outbox_attempts", "Webhook and write-back attempts, by target and outcome "
            "(delivered, retry, failed)", ["target", "outcome"], registry=self.registry,
        )  # fmt: skip

    def count_ingested(self, statuses: Iterable[str], decisions: Iterable[tuple[str, str | None]]) -> None:
        """Counted per label first: a batch of a thousand events touches each counter once."""
        for status, count in Tally(statuses).items():
            self.events.labels(status).inc(count)
        for (outcome, reason), count in Tally(decisions).items():
            self.decisions.labels(outcome, reason or "").inc(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
