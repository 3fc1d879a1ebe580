"""The composition root: everything the bot runs on is built here, from the config, once.

Tests build the same `Services` with a fake clock and channels pointed at local fakes; nothing
in the project builds an engine, a client or a scheduler at import time.
"""

from __future__ import annotations

import functools
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.channels.base import Channel
from bot.channels.log import LogChannel
from bot.config import Config
from bot.dispatch.dispatcher import Dispatcher, DispatchSettings
from bot.dispatch.reminders import ReminderDispatcher
from bot.dispatch.takeover import Takeover
from bot.intake.ingest import Ingestor
from bot.outbound.wiring import build_worker, build_writer
from bot.outbound.worker import OutboxWorker
from bot.pages.links import LinkSigner
from bot.privacy.retention import RetentionPurge
from bot.responses.recorder import Responses
from bot.runtime.clock import Clock, SystemClock
from bot.runtime.scheduler import BotScheduler
from bot.runtime.telemetry import Telemetry
from bot.sms.inbox import SmsInbox
from storage import queries
from storage.db import Database
from triggers.addresses import AddressKeys

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger(__name__)

DISPATCH_JOB = "dispatch"
RECOVER_JOB = "recover"
TAKEOVER_JOB = "takeover"
REMINDER_JOB = "reminders"
DIGEST_CATCH_UP_JOB = "digest_catch_up"
ALERT_SWEEP_JOB = "alert_sweep"
RETENTION_JOB = "retention"
OUTBOX_JOB = "outbox"
OUTBOX_PURGE_JOB = "outbox_purge"
DAY_SECONDS = 24 * 3600


@dataclass
class Services:
    config: Config
    db: Database
    clock: Clock
    secret: str
    address_keys: AddressKeys
    channels: Mapping[str, Channel]
    ingestor: Ingestor
    dispatcher: Dispatcher
    responses: Responses
    links: LinkSigner
    sms_inbox: SmsInbox
    telemetry: Telemetry
    scheduler: BotScheduler | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    slack: SlackBot | None = None
    outbox: OutboxWorker | None = None
    takeover: Takeover | None = None
    reminders: ReminderDispatcher | None = None

    def close(self) -> None:
        for closer in self.closers:
            closer()
        if self.scheduler:
            self.scheduler.shutdown(wait=True)
        if self.slack:
            self.slack.close()
        self.dispatcher.release()
        if self.takeover:
            self.takeover.stop()
        if self.reminders:
            self.reminders.release()
        for channel in self.channels.values():
            channel.close()
        self.db.dispose()


def build_services(
    config: Config,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    channels: Mapping[str, Channel] | None = None,
    worker: str | None = None,
    settings: DispatchSettings | None = None,
) -> Services:
    """Wire the bot. The database must already have its schema (see `storage.migrate`)."""
    db = db or Database(config.storage.url)
    clock = clock or SystemClock()
    secret = config.server.secret_key or _stored_secret(db)
    address_keys = AddressKeys(secret)
    channels = channels if channels is not None else build_channels(config, clock, db)
    links = LinkSigner(secret, config.server.public_url, clock=clock)
    dispatcher = Dispatcher(
        db,
        config,
        channels,
        clock,
        address_keys,
        links=links,
        worker=worker,
        settings=settings or DispatchSettings(config.dispatch.batch_size, config.dispatch.lease),
    )
    ingestor = Ingestor(db, config, clock, address_keys)
    responses = Responses(db, config, address_keys)
    sms_inbox = SmsInbox(db, config, clock, address_keys, responses)
    telemetry = Telemetry()
    ingestor.telemetry = dispatcher.telemetry = telemetry
    responses.listeners.append(lambda r: telemetry.responses.labels(r.channel, r.survey).inc())
    responses.outbox = dispatcher.outbox = build_writer(config)
    services = Services(
        config, db, clock, secret, address_keys, channels, ingestor, dispatcher, responses, links, sms_inbox,
        telemetry,
    )  # fmt: skip
    services.reminders = ReminderDispatcher(
        db, config, channels, clock, address_keys, links=links, worker=dispatcher.worker,
        settings=dispatcher.settings,
    )  # fmt: skip
    if config.slack.bot_token:
        services.slack = _slack(services)
    if config.webhooks or config.writeback.zendesk:
        services.outbox = build_worker(config, db, clock, worker=dispatcher.worker)
        services.outbox.telemetry = telemetry
    return services


def _slack(services: Services) -> SlackBot:
    """The Slack bot: digests, and alerts listening to every recorded score."""
    from bot.slack.app import build_slack_bot  # slack-bolt loads only when Slack is configured

    bot = build_slack_bot(services.config, services.db, services.clock, worker=services.dispatcher.worker)
    if bot.alerts:
        services.responses.listeners.append(bot.alerts.hear)
        bot.alerts.outbox = services.responses.outbox
    return bot


def build_channels(config: Config, clock: Clock, db: Database | None = None) -> dict[str, Channel]:
    """Each channel by its provider; `log` writes what it would send to a JSON-lines file. Given
    the database, SMS keeps `rate_per_second` for every process on it together."""
    sms, email = config.channels.sms, config.channels.email
    built: dict[str, Channel] = {}
    built["sms"] = LogChannel("sms", sms.path) if sms.provider == "log" else _twilio(config, db)
    if email.provider == "log":
        built["email"] = LogChannel("email", email.path)
    else:
        from bot.channels.smtp_email import SmtpEmailChannel

        built["email"] = SmtpEmailChannel(email, clock=clock, brand=config.brand)
    whatsapp = config.channels.whatsapp
    built["whatsapp"] = (
        LogChannel("whatsapp", whatsapp.path)
        if whatsapp.provider == "log"
        else _twilio(config, db, "whatsapp")
    )
    return built


def _twilio(config: Config, db: Database | None, channel: str = "sms") -> Channel:
    from bot.channels.fleet_pacing import FleetPacer
    from bot.channels.twilio import TwilioSmsChannel, TwilioWhatsAppChannel
    from bot.sms.webhooks import STATUS_PATH

    callback = config.server.public_url + STATUS_PATH
    if channel == "whatsapp":
        whatsapp = config.channels.whatsapp
        pacer = FleetPacer(db, "whatsapp", whatsapp.rate_per_second) if db else None
        return TwilioWhatsAppChannel(whatsapp, status_callback_url=callback, pacer=pacer)
    pacer = FleetPacer(db, "sms", config.channels.sms.rate_per_second) if db else None
    return TwilioSmsChannel(config.channels.sms, status_callback_url=callback, pacer=pacer)


def _stored_secret(db: Database) -> str:
    """The instance's signing secret: generated once and kept, unless the config sets one."""
    with db.write() as conn:
        return queries.get_or_create_setting(conn, "secret_key", lambda: secrets.token_urlsafe(32))


class DispatchJob:
    """Runs the dispatcher from the scheduler; `wake()` asks for a run now without piling up."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._again = threading.Event()
        self._running = threading.Lock()

    def __call__(self) -> None:
        if not self._running.acquire(blocking=False):
            self._again.set()
            return
        try:
            self._again.clear()
            self.services.dispatcher.run_once()
            while self._again.is_set() and not self.services.dispatcher.stopping:
                self._again.clear()
                self.services.dispatcher.run_once()
        finally:
            self._running.release()

    def wake(self) -> None:
        if self._running.locked():
            self._again.set()
        elif self.services.scheduler:
            self.services.scheduler.poke(DISPATCH_JOB)


def start_background(services: Services, *, tick_seconds: float = 1.0) -> BotScheduler:
    """Start the jobs of `surveybot run`: dispatch every tick (and on demand), crash recovery
    (liveness takeover every `dispatch.liveness_sweep`, the lease every minute), and the
    retention purge (at start, then daily)."""
    scheduler = BotScheduler()
    services.scheduler = scheduler
    job = DispatchJob(services)
    services.ingestor.on_due = job.wake
    services.dispatcher.recover()
    takeover = Takeover(services.db, services.dispatcher.worker, services.clock, on_released=job.wake)
    services.takeover = takeover
    takeover.start()
    scheduler.every(tick_seconds, DISPATCH_JOB, job)
    scheduler.every(60, RECOVER_JOB, services.dispatcher.recover)
    sweep = services.config.dispatch.liveness_sweep.total_seconds()
    scheduler.every(sweep, TAKEOVER_JOB, takeover.sweep)
    if services.reminders and any(s.reminder for s in services.config.surveys.values()):
        services.reminders.recover()
        scheduler.every(tick_seconds, REMINDER_JOB, services.reminders.run_once)
        scheduler.every(60, f"{REMINDER_JOB}:recover", services.reminders.recover)
    if services.slack:
        _schedule_slack(scheduler, services.slack)
    if services.outbox:
        scheduler.every(tick_seconds, OUTBOX_JOB, services.outbox.run_once)
        scheduler.every(DAY_SECONDS, OUTBOX_PURGE_JOB, services.outbox.purge)
    purge = RetentionPurge(services.db, services.config, services.clock)
    scheduler.every(DAY_SECONDS, RETENTION_JOB, purge.run)
    scheduler.start()
    return scheduler


def _schedule_slack(scheduler: BotScheduler, slack: SlackBot) -> None:
    """Each digest on its cron, in its time zone; catch-up at start and every 5 minutes (a
    missed window, a claim left by a dead process); the alert sweep every minute."""
    for digest in slack.digests.digests.values():
        run = functools.partial(slack.digests.run_scheduled, digest.name)
        scheduler.on_cron(digest.schedule, digest.timezone, f"digest:{digest.name}", run)
    scheduler.every(300, DIGEST_CATCH_UP_JOB, slack.digests.catch_up)
    if slack.alerts:
        scheduler.every(60, ALERT_SWEEP_JOB, slack.alerts.sweep)


def stop_background(services: Services) -> None:
    """Stop taking new sends, let the one in flight finish, give back what was not started."""
    services.dispatcher.stopping = True
    if services.reminders:
        services.reminders.stopping = True
    if services.outbox:
        services.outbox.stopping = True
    if services.scheduler:
        services.scheduler.shutdown(wait=True)
    if services.outbox:
        services.outbox.release()
    released = services.dispatcher.release()
    if services.reminders:
        released += services.reminders.release()
    if released:
        log.info("released %d claimed sends for other workers", released)
    if services.takeover:
        services.takeover.stop()
