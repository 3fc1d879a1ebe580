"""Scheduled digests: each window (digest, end = its scheduled fire time) is posted once.

`run_scheduled(name)` is the cron job; `catch_up()` runs when the bot starts (and every few
minutes): it posts each digest's most recent window missed while no process was up, and takes
over a window whose poster died. `post_now` is `surveybot digest NAME --post`: a manual post,
outside the once-per-window record, so it never stands in for the scheduled one.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import Config, DigestConfig
from bot.metrics.chart import render_trend_chart
from bot.metrics.digest import DigestReport
from bot.metrics.report import build_digest_report, daily_points
from bot.runtime.clock import Clock
from bot.runtime.scheduler import latest_fire_time
from bot.slack.alerts import alert_summary
from bot.slack.directory import ChannelDirectory
from bot.slack.publish import SlackWebApi, post_digest
from storage import digest_posts
from storage.db import Database
from storage.models import DigestPostStatus

log = logging.getLogger(__name__)

# How far back to look for a cron's latest fire time, widened until one is found.
LOOKBACK = (timedelta(hours=2), timedelta(days=2), timedelta(days=40), timedelta(days=400))


class DigestPoster:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        client: SlackWebApi,
        directory: ChannelDirectory,
        *,
        worker: str,
        lease: timedelta = timedelta(minutes=10),
    ) -> None:
        self.db, self.config, self.clock = db, config, clock
        self.client, self.directory = client, directory
        self.worker, self.lease = worker, lease
        self.digests = {d.name: d for d in config.digests}

    def run_scheduled(self, name: str) -> bool:
        """The cron job: post the window that ends at the latest fire time; True if this process
        posted it (False: another process has it, or it was posted already)."""
        digest = self.digests[name]
        end = self.latest_end(digest, self.clock.now())
        return end is not None and self.post_window(digest, end)

    def catch_up(self) -> list[tuple[str, datetime]]:
        """Post each digest's window missed since its last one (the most recent only), and any
        window left claimed by a process that died; returns what this process posted."""
        now, posted = self.clock.now(), []
        for digest in self.digests.values():
            with self.db.read() as conn:
                last = digest_posts.latest_window(conn, digest=digest.name)
            if last is None:
                continue  # a digest never posted has no window it could have missed
            end = self.latest_end(digest, now, after=last.window_end)
            if end is None and last.status == DigestPostStatus.CLAIMED:
                end = last.window_end  # taken over only once its claim is older than the lease
            if end is not None and self.post_window(digest, end):
                posted.append((digest.name, end))
        return posted

    def post_window(self, digest: DigestConfig, end: datetime) -> bool:
        now = self.clock.now()
        with self.db.write() as conn:
            mine = digest_posts.claim_window(
                conn, digest=digest.name, window_end=end, worker=self.worker, now=now,
                stale_before=now - self.lease,
            )  # fmt: skip
        if not mine:
            return False
        channel, ts = self.post_now(digest, end)
        with self.db.write() as conn:
            digest_posts.mark_posted(
                conn, digest=digest.name, window_end=end, worker=self.worker, now=self.clock.now(),
                channel=channel, ts=ts,
            )  # fmt: skip
        log.info("digest %s posted for the window ending %s", digest.name, end.isoformat())
        return True

    def post_now(self, digest: DigestConfig, end: datetime) -> tuple[str, str]:
        """Build and post the digest for the window ending at `end`; (channel id, message ts)."""
        report, charts = self.build(digest, end)
        channel = self.directory.channel_id(digest.channel)
        return channel, post_digest(self.client, channel_id=channel, report=report, charts=charts)

    def build(self, digest: DigestConfig, end: datetime) -> tuple[DigestReport, list[tuple[str, bytes]]]:
        return build_digest(self.db, self.config, digest, end)

    def latest_end(
        self, digest: DigestConfig, now: datetime, after: datetime | None = None
    ) -> datetime | None:
        for span in LOOKBACK:
            since = max(after, now - span) if after else now - span
            if end := latest_fire_time(digest.schedule, digest.timezone, after=since, now=now):
                return end
        return None


def build_digest(
    db: Database, config: Config, digest: DigestConfig, end: datetime
) -> tuple[DigestReport, list[tuple[str, bytes]]]:
    """The digest's report for `[end - window, end)` (with the alerts summary when alerts are
    on) and, with `chart: true`, one trend PNG per survey."""
    start = end - digest.window
    with db.read() as conn:
        alerts = alert_summary(conn, start=start, end=end) if config.alerts.channel else None
        report = build_digest_report(conn, config=config, digest=digest, end=end, alerts=alerts)
        points = {
            name: daily_points(
                conn, survey=name, start=start, end=end, timezone=digest.timezone,
                min_sample=config.metrics.min_sample,
            )
            for name in (digest.surveys or list(config.surveys))
        } if digest.chart else {}  # fmt: skip
    # A window that ends mid-day (a digest asked for by hand) has a last day still under way.
    partial_last = end.astimezone(ZoneInfo(digest.timezone)).time() != time(0)
    charts = [
        (name, render_trend_chart(
            p, survey=name, metric=config.surveys[name].metric, min_sample=config.metrics.min_sample,
            title=config.surveys[name].name, partial_last=partial_last,
        ))
        for name, p in points.items()
    ]  # fmt: skip
    return report, charts
