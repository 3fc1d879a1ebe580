"""Building the outbox's writer and worker from the config (called by the composition root)."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Config
from bot.outbound.targets import Target, WebhookTarget, ZendeskTarget
from bot.outbound.worker import OutboxWorker
from bot.outbound.writer import ZENDESK_TARGET, OutboxWriter
from bot.runtime.clock import Clock, SystemClock
from storage.db import Database

BATCH_SIZE = 10


def build_writer(config: Config) -> OutboxWriter:
    zendesk_sources = frozenset(name for name, source in config.sources.items() if source.kind == "zendesk")
    return OutboxWriter(
        config.webhooks,
        zendesk=config.writeback.zendesk,
        zendesk_sources=zendesk_sources,
        scales={name: survey.scale for name, survey in config.surveys.items()},
    )


def build_targets(config: Config, signing_clock: Clock | None = None) -> dict[str, Target]:
    """Each configured target by name; signatures carry the wall clock's time (receivers check
    it against theirs), whatever clock the rest of the bot runs on."""
    targets: dict[str, Target] = {
        hook.name: WebhookTarget(hook, signing_clock or SystemClock()) for hook in config.webhooks
    }
    if config.writeback.zendesk:
        targets[ZENDESK_TARGET] = ZendeskTarget(config.writeback.zendesk)
    return targets


def build_worker(config: Config, db: Database, clock: Clock, *, worker: str) -> OutboxWorker:
    """The delivery worker; its lease outlasts a whole batch of attempts that all time out."""
    timeouts = [hook.timeout for hook in config.webhooks]
    if config.writeback.zendesk:
        timeouts.append(config.writeback.zendesk.timeout)
    longest = max(timeouts, default=timedelta(seconds=10))
    # connecting and reading are each bounded; the dispatcher's lease on top, as a margin
    lease = BATCH_SIZE * 2 * longest + config.dispatch.lease
    return OutboxWorker(db, clock, build_targets(config), worker=worker, batch_size=BATCH_SIZE, lease=lease)
