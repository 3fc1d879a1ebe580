"""Low-score alerts: posted to `alerts.channel` within seconds, once per send, then followed up.

`AlertPoster.hear` is a `Responses` listener: it runs in the web request that recorded the
score, after the commit, so it only queues the send id; a worker thread of its own posts it.
`sweep()` (a scheduler job) posts what the queue never got to: a crash, another process that
recorded the score without Slack, a claim whose poster died. Button clicks come from
`bot.slack.app` as `claim` / `resolve`, which record who and when and redraw the message.
"""

from __future__ import annotations

import logging
import queue
import statistics
import threading
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.config import Config
from bot.metrics.digest import AlertSummary
from bot.outbound.writer import AlertEvent, OutboxWriter
from bot.responses.recorder import ScoreRecorded
from bot.runtime.clock import Clock
from bot.slack.alert_blocks import alert_fallback, render_alert_blocks
from bot.slack.directory import ChannelDirectory
from storage import alerts as stored
from storage.db import Connection, Database

log = logging.getLogger(__name__)

SWEEP_LOOKBACK = timedelta(days=1)


class MessagesApi(Protocol):
    """The `slack_sdk.WebClient` methods an alert needs."""

    def chat_postMessage(self, *, channel: str, text: str | None = ..., **kwargs: Any) -> Any: ...

    def chat_update(self, *, channel: str, ts: str, text: str | None = ..., **kwargs: Any) -> Any: ...


class AlertPoster:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        client: MessagesApi,
        directory: ChannelDirectory,
        *,
        worker: str,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        assert config.alerts.channel, "alerts need alerts.channel"
        self.db, self.config, self.clock = db, config, clock
        self.client, self.directory = client, directory
        self.channel = config.alerts.channel
        self.worker, self.lease = worker, lease
        self._queue: queue.Queue[tuple[str, str, int] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.outbox = OutboxWriter()  # the app sets the configured one

    # --- posting ----------------------------------------------------------------------------

    def hear(self, recorded: ScoreRecorded) -> None:
        """Queue a low score for posting; never blocks, never raises into the request."""
        survey = self.config.surveys.get(recorded.survey)
        if survey is None or recorded.test or recorded.score > survey.low_score_threshold:
            return
        self._ensure_worker()
        self._queue.put((recorded.send_id, recorded.survey, recorded.score))

    def post(self, send_id: str, survey: str, score: int) -> bool:
        """Post this send's alert unless it is posted or being posted; True when posted now."""
        now = self.clock.now()
        with self.db.write() as conn:
            mine = stored.claim_post(
                conn, send_id=send_id, survey=survey, score=score, worker=self.worker,
                now=now, stale_before=now - self.lease,
            )  # fmt: skip
            context = stored.load_context(conn, send_id) if mine else None
        if context is None:
            return False
        channel = self.directory.channel_id(self.channel)
        answer = self.client.chat_postMessage(
            channel=channel,
            text=alert_fallback(context),
            blocks=render_alert_blocks(context),
            unfurl_links=False,
        )
        with self.db.write() as conn:
            now = self.clock.now()
            stored.mark_posted(conn, send_id=send_id, channel=channel, ts=str(answer["ts"]), now=now)
            self.outbox.alert_changed(conn, "alert.created", send_id=send_id, survey=survey, score=score,
                                      by=None, now=now)  # fmt: skip
        log.info("alert posted for send %s", send_id, extra={"send_id": send_id})
        return True

    def sweep(self) -> int:
        """Post alerts for low scores of the last day that have none (nor a live claim)."""
        now = self.clock.now()
        thresholds = {name: s.low_score_threshold for name, s in self.config.surveys.items()}
        with self.db.read() as conn:
            missing = stored.unalerted_low_scores(
                conn, surveys=list(thresholds), low_thresholds=thresholds,
                since=now - SWEEP_LOOKBACK, stale_before=now - self.lease,
            )  # fmt: skip
        return sum(self.post(*item) for item in missing)

    def wait_idle(self) -> None:
        """Return once every queued score has been handled (tests, shutdown)."""
        self._queue.join()

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread:
            self._queue.put(None)
            thread.join(timeout=30)

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, name="slack-alerts", daemon=True)
                self._thread.start()

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self.post(*item)
            except Exception:  # the sweep retries it; one bad alert must not stop the others
                log.exception("posting an alert failed", extra={"send_id": item[0]})
            finally:
                self._queue.task_done()
        self._queue.task_done()

    # --- follow-up --------------------------------------------------------------------------

    def claim(self, send_id: str, user: str) -> bool:
        """ "I'll follow up": the first person keeps it; the message shows who and since when."""
        with self.db.write() as conn:
            changed = stored.claim_follow_up(conn, send_id=send_id, user=user, now=self.clock.now())
            if changed:
                self._tell(conn, "alert.claimed", send_id, user)
        self._redraw(send_id)
        return changed

    def resolve(self, send_id: str, user: str) -> bool:
        with self.db.write() as conn:
            changed = stored.resolve(conn, send_id=send_id, user=user, now=self.clock.now())
            if changed:
                self._tell(conn, "alert.resolved", send_id, user)
        self._redraw(send_id)
        return changed

    def _tell(self, conn: Connection, event_type: AlertEvent, send_id: str, user: str) -> None:
        """Write the follow-up's webhook in the transaction that recorded it."""
        state = stored.load_context(conn, send_id)
        if state is not None:
            self.outbox.alert_changed(conn, event_type, send_id=send_id, survey=state.survey,
                                      score=state.score, by=user, now=self.clock.now())  # fmt: skip

    def redraw_for_contacts(self, contact_ids: list[str]) -> int:
        """Draw the contacts' posted alerts again from what is stored: after `forget`, Slack
        shows them without the name and comment that were erased. Returns how many."""
        with self.db.read() as conn:
            send_ids = stored.posted_for_contacts(conn, contact_ids)
        for send_id in send_ids:
            self._redraw(send_id)
        return len(send_ids)

    def _redraw(self, send_id: str) -> None:
        with self.db.read() as conn:
            state = stored.load_alert(conn, send_id)
            context = stored.load_context(conn, send_id)
        if state is None or context is None or not state.ts or not state.channel:
            return
        self.client.chat_update(
            channel=state.channel, ts=state.ts, text=alert_fallback(context),
            blocks=render_alert_blocks(context, state),
        )  # fmt: skip


def alert_summary(conn: Connection, *, start: datetime, end: datetime) -> AlertSummary:
    """Alerts posted in `[start, end)`: how many, how many claimed and resolved (by now), and
    the median time from posting to the first claim."""
    rows = stored.posted_between(conn, start=start, end=end)
    waits = [(r.claimed_at - r.posted_at).total_seconds() for r in rows if r.claimed_at and r.posted_at]
    return AlertSummary(
        posted=len(rows),
        claimed=sum(r.claimed_by is not None for r in rows),
        resolved=sum(r.resolved_by is not None for r in rows),
        median_time_to_claim=timedelta(seconds=statistics.median(waits)) if waits else None,
    )
