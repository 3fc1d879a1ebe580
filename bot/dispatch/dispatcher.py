"""Sending due surveys: claim, re-check, mark, send, record. See `storage.sends` for the states.

`Dispatcher.run_once()` is what the scheduler calls; it is safe to run in several processes at
once (each send is claimed by one) and after a crash (`recover()` settles what was left).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from jinja2 import TemplateError

from bot.channels.base import RETRY, Channel, OutboundMessage, SendOutcome
from bot.channels.whatsapp import render_content_variables
from bot.config import Config
from bot.dispatch.fallback import fall_back
from bot.outbound.writer import OutboxWriter
from bot.runtime.clock import Clock
from bot.runtime.telemetry import Telemetry
from bot.texts.rendering import RenderedMessage, render_survey_message
from bot.texts.translations import localized, survey_locale
from storage import outcomes, queries, reminders, sends
from storage.db import Database
from storage.models import SendStatus
from storage.sends import ClaimedSend
from triggers.addresses import AddressKeys
from triggers.events import EventIn
from triggers.follow_ups import follow_ups
from triggers.quiet_hours import contact_timezone, end_of_quiet_hours, quiet_hours_detail
from triggers.settings import SurveyConfig

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class Links(Protocol):
    def rating_url(self, send_id: str, score: int) -> str: ...

    def unsubscribe_url(self, send_id: str) -> str: ...


@dataclass(frozen=True)
class DispatchSettings:
    batch_size: int = 50
    lease: timedelta = timedelta(minutes=5)


def worker_name() -> str:
    """This process's name in claims: host, pid and a random tag, so a restarted container
    (same host name, same pid) is never taken for the process that ran before it."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Dispatcher:
    def __init__(
        self,
        db: Database,
        config: Config,
        channels: Mapping[str, Channel],
        clock: Clock,
        address_keys: AddressKeys,
        links: Links | None = None,
        worker: str | None = None,
        settings: DispatchSettings = DispatchSettings(),
    ) -> None:
        self.db = db
        self.config = config
        self.follow_ups = follow_ups(config.outcomes)  # docs/outcomes.md
        self.channels = channels
        self.clock = clock
        self.address_keys = address_keys
        self.links = links
        self.worker = worker or worker_name()
        self.settings = settings
        self.stopping = False
        self.telemetry: Telemetry | None = None
        self.outbox = OutboxWriter()  # the app sets the configured one

    def run_once(self) -> int:
        """Claim what is due and send it; returns how many sends were handled."""
        handled = 0
        while not self.stopping:
            with self.db.write() as conn:
                ids = sends.claim_due(
                    conn, now=self.clock.now(), worker=self.worker, limit=self.settings.batch_size
                )
                claimed = sends.load_claimed(conn, ids) if ids else []
            if not claimed:
                return handled
            for send in claimed:
                if self.stopping:
                    break
                self.deliver(send)
                handled += 1
            self.release()
        return handled

    def send_test(self, event: EventIn, *, survey: str, channel: str) -> tuple[str, str, str | None]:
        """Send `survey` to the event's contact over `channel` now, past delay, quiet hours and
        throttle, marked as a test; the normal way out, so it too leaves at most once.
        Returns (send id, status, reason)."""
        now = self.clock.now()
        metric = self.config.surveys[survey].metric
        with self.db.write() as conn:
            send_id = sends.insert_test_send(
                conn, event, survey=survey, metric=metric, channel=channel, worker=self.worker, now=now
            )
            (send,) = sends.load_claimed(conn, [send_id])
        self.deliver(send)
        with self.db.read() as conn:
            return (send_id, *sends.send_status(conn, send_id))

    def deliver(self, send: ClaimedSend) -> None:
        """Re-check one claimed send, then send it at most once and record what happened."""
        now = self.clock.now()
        if held := self._hold_reason(send):
            self._settle(send, held)
            return
        try:
            message = self._message(send)
        except TemplateError as exc:
            with self.db.write() as conn:
                if sends.set_status(
                    conn,
                    send_id=send.id,
                    status=SendStatus.FAILED,
                    now=now,
                    from_status=(SendStatus.CLAIMED,),
                    reason=f"template error: {exc}",
                ):
                    self.outbox.send_failed(
                        conn, send_id=send.id, status="failed", reason=f"template error: {exc}", now=now
                    )
            return
        with self.db.write() as conn:
            if not sends.mark_sending(
                conn, send_id=send.id, worker=self.worker, now=now, locale=message.locale
            ):
                return  # cancelled or taken back while we held it: nothing left
        outcome = self._send(message)
        self._record(send, outcome)

    def _hold_reason(self, send: ClaimedSend) -> tuple[str, Any] | None:
        """Why this send must not go out now: opted out since, or quiet hours at the contact."""
        key = self.address_keys.key(send.channel, send.to_address)
        with self.db.read() as conn:
            if queries.opted_out_keys(conn, [key]):
                return ("opted_out", None)
        if send.test:
            return None  # asked for by hand, now: quiet hours do not hold it (an opt-out does)
        timezone, phone = send.contact.get("timezone"), send.contact.get("phone")
        zone = contact_timezone(timezone, phone, self.config.throttle.default_timezone)
        quiet_end = end_of_quiet_hours(self.clock.now(), zone, self.config.throttle.quiet_hours)
        return ("quiet_hours", (quiet_end, quiet_hours_detail(zone, timezone, phone))) if quiet_end else None

    def _settle(self, send: ClaimedSend, held: tuple[str, Any]) -> None:
        """Hold a send the re-check stopped, and record why as a decision `explain` shows."""
        reason, until = held
        detail = None
        if reason == "quiet_hours":
            until, detail = until
        now = self.clock.now()
        with self.db.write() as conn:
            if reason == "quiet_hours":
                changed = sends.set_status(
                    conn,
                    send_id=send.id,
                    status=SendStatus.SCHEDULED,
                    now=now,
                    from_status=(SendStatus.CLAIMED,),
                    due_at=until,
                    claimed_by=None,
                    claimed_at=None,
                )
                outcome = "deferred"
            else:
                changed = sends.set_status(
                    conn,
                    send_id=send.id,
                    status=SendStatus.SUPPRESSED,
                    now=now,
                    from_status=(SendStatus.CLAIMED,),
                    reason=reason,
                )
                outcome = "suppressed"
            if changed:
                sends.record_send_time_decision(
                    conn, send, outcome=outcome, reason=reason, due_at=until, now=now, detail=detail
                )

    def _message(self, send: ClaimedSend) -> OutboundMessage:
        survey = self.config.surveys[send.survey]
        context = template_context(
            survey, self.links, send.id, name=send.survey, metric=send.metric, contact=send.contact,
            properties=send.properties,
        )  # fmt: skip
        locale = survey_locale(survey, send.contact.get("locale"))
        rendered = render_survey_message(localized(survey, locale), send.channel, context)
        return outbound_message(
            self.config, send.id, send.channel, send.to_address, send.survey, send.metric, rendered,
            context, locale,
        )  # fmt: skip

    def _send(self, message: OutboundMessage) -> SendOutcome:
        channel = self.channels[message.channel]
        started = time.perf_counter()
        try:
            return channel.send(message)
        except Exception as exc:  # a channel bug must not lose track of a send that may have left
            log.exception("channel %s raised for send %s", message.channel, message.send_id,
                          extra={"send_id": message.send_id})  # fmt: skip
            return SendOutcome(status=SendStatus.UNKNOWN, reason=f"channel error: {exc.__class__.__name__}")
        finally:
            if self.telemetry:
                self.telemetry.provider_seconds.labels(message.channel).observe(time.perf_counter() - started)

    def _record(self, send: ClaimedSend, outcome: SendOutcome) -> None:
        now = self.clock.now()
        survey = self.config.surveys[send.survey]
        with self.db.write() as conn:
            if outcome.status == SendStatus.SENT:
                sends.set_status(
                    conn,
                    send_id=send.id,
                    status=SendStatus.SENT,
                    now=now,
                    from_status=(SendStatus.SENDING,),
                    sent_at=now,
                    provider_message_id=outcome.provider_id,
                    expires_at=now + survey.expires_after,
                )
                if survey.reminder and not send.test:  # planned with the outcome: never lost, never two
                    reminders.plan_reminder(
                        conn, send_id=send.id, due_at=now + survey.reminder.after, now=now
                    )
                outcomes.follow_send(conn, send.id, self.follow_ups)
            elif outcome.status == RETRY and send.attempts + 1 < MAX_ATTEMPTS:
                delay = outcome.retry_after or timedelta(seconds=30)
                sends.set_status(
                    conn,
                    send_id=send.id,
                    status=SendStatus.SCHEDULED,
                    now=now,
                    from_status=(SendStatus.SENDING,),
                    due_at=now + delay,
                    claimed_by=None,
                    claimed_at=None,
                    reason=outcome.reason,
                )
            else:
                status = SendStatus.UNKNOWN if outcome.status == SendStatus.UNKNOWN else SendStatus.FAILED
                reason = (
                    outcome.reason
                    if outcome.status != RETRY
                    else f"gave up after {MAX_ATTEMPTS} attempts: {outcome.reason}"
                )
                changed = sends.set_status(
                    conn,
                    send_id=send.id,
                    status=status,
                    now=now,
                    from_status=(SendStatus.SENDING,),
                    reason=reason,
                )
                if changed and status == SendStatus.FAILED:
                    self.outbox.send_failed(conn, send_id=send.id, status="failed", reason=reason, now=now)
                    if not outcome.opt_out:
                        fall_back(conn, config=self.config, address_keys=self.address_keys, send_id=send.id,
                                  reason=reason, now=now)  # fmt: skip
            if outcome.opt_out:
                key = self.address_keys.key(send.channel, send.to_address)
                if queries.add_opt_out(conn, key=key, channel=send.channel, source="provider", now=now):
                    self.outbox.opted_out(conn, channel=send.channel, source="provider", now=now,
                                          send_id=send.id, contact_id=send.contact["id"])  # fmt: skip
        context = {"send_id": send.id, "contact_id": send.contact["id"], "survey": send.survey}
        log.info("send %s %s via %s", send.id, outcome.status, send.channel, extra=context)
        if self.telemetry:
            self.telemetry.sends.labels(send.channel, outcome.status).inc()

    def release(self) -> int:
        """Give back this worker's claimed sends it has not started (shutdown, end of a batch)."""
        with self.db.write() as conn:
            return sends.release_claims(conn, worker=self.worker, now=self.clock.now())

    def recover(self) -> tuple[int, int]:
        """Settle what crashed workers left: stale claims released, stale in-flight sends `unknown`."""
        now = self.clock.now()
        cutoff = now - self.settings.lease
        with self.db.write() as conn:
            released = sends.release_claims(conn, worker=None, now=now, older_than=cutoff)
            unknown = sends.expire_in_flight(conn, now=now, older_than=cutoff)
        if released or unknown:
            log.warning(
                "recovered after a crash: %d claims released, %d in-flight sends unknown", released, unknown
            )
        return released, unknown


def template_context(
    survey: SurveyConfig,
    links: Links | None,
    send_id: str,
    *,
    name: str,
    metric: str,
    contact: Mapping[str, Any],
    properties: Mapping[str, Any],
) -> dict[str, Any]:
    """What a send's templates see: the contact, the event's properties, the scale, the signed
    rating `links` (score -> URL; `link` is the top score's) and the `unsubscribe_url`."""
    low, high = survey.scale
    scored = {score: links.rating_url(send_id, score) for score in range(low, high + 1)} if links else {}
    return {
        "contact": contact,
        "properties": properties,
        "survey": name,
        "metric": metric,
        "scale": {"low": low, "high": high},
        "links": scored,
        "link": scored.get(high) if scored else None,
        "unsubscribe_url": links.unsubscribe_url(send_id) if links else None,
    }


def outbound_message(
    config: Config,
    message_id: str,
    channel: str,
    to: str,
    survey: str,
    metric: str,
    rendered: RenderedMessage,
    context: dict[str, Any],
    locale: str | None,
) -> OutboundMessage:
    """The message a channel sends: email carries the rating links and the unsubscribe link;
    WhatsApp the approved template's variables, rendered with the same `context`."""
    email = channel == "email"
    templated = config.channels.whatsapp.content_variables
    variables = render_content_variables(templated, context) if channel == "whatsapp" else {}
    return OutboundMessage(
        send_id=message_id,
        channel=channel,
        to=to,
        survey=survey,
        metric=metric,
        body=rendered.body,
        subject=rendered.subject,
        html=rendered.html,
        links=context["links"] if email else {},
        unsubscribe_url=context["unsubscribe_url"] if email else None,
        locale=locale,
        variables=variables,
    )
