"""Sending due reminders: claim, re-check, mark, send, record (`storage.reminders`).

A send's one reminder is planned when the send is recorded as sent (`Dispatcher._record`).
`ReminderDispatcher.run_once()` claims the reminders that fell due, re-checks each
(`triggers.reminders.judge_reminder`: answered, expired, opted out, called off, quiet hours...)
and sends the ones that may go, at most once, like sends: safe in several processes at once and
after a crash (`recover()`). The reminder's links are the first ask's, so an answer to it is the
survey's one response.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from jinja2 import TemplateError

from bot.channels.base import RETRY, Channel, OutboundMessage, SendOutcome
from bot.config import Config
from bot.dispatch.dispatcher import (
    MAX_ATTEMPTS,
    DispatchSettings,
    Links,
    outbound_message,
    template_context,
    worker_name,
)
from bot.runtime.clock import Clock
from bot.texts.reminders import render_reminder_message
from bot.texts.translations import localized, survey_locale
from storage import queries
from storage import reminders as stored
from storage.db import Connection, Database
from storage.models import SendStatus
from storage.reminders import FIRST_ASK_DELIVERED, DueReminder
from triggers.addresses import AddressKeys
from triggers.quiet_hours import contact_timezone, end_of_quiet_hours, quiet_hours_detail
from triggers.reminders import ReminderFacts, ReminderVerdict, judge_reminder
from triggers.rules import cancel_key, cancels

log = logging.getLogger(__name__)

MESSAGE_SUFFIX = ".reminder"  # the reminder's message id: its send's, marked (email Message-ID)


class ReminderDispatcher:
    def __init__(
        self,
        db: Database,
        config: Config,
        channels: Mapping[str, Channel],
        clock: Clock,
        address_keys: AddressKeys,
        links: Links | None = None,
        worker: str | None = None,
        settings: DispatchSettings | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.channels = channels
        self.clock = clock
        self.address_keys = address_keys
        self.links = links
        self.worker = worker or worker_name()
        self.settings = settings or DispatchSettings()
        self.stopping = False

    def run_once(self) -> int:
        """Claim the reminders that are due and settle each; returns how many were handled."""
        handled = 0
        while not self.stopping:
            with self.db.write() as conn:
                ids = stored.claim_due_reminders(
                    conn, now=self.clock.now(), worker=self.worker, limit=self.settings.batch_size
                )
                claimed = stored.load_due_reminders(conn, ids) if ids else []
                orphans = set(ids) - {due.send_id for due in claimed}
                if orphans:  # no send to remind of: never claimed again
                    stored.drop_reminders(conn, orphans, reason="no_send", now=self.clock.now())
            if not claimed:
                return handled
            for due in claimed:
                if self.stopping:
                    break
                self.deliver(due)
                handled += 1
            self.release()
        return handled

    def deliver(self, due: DueReminder) -> None:
        """Re-check one claimed reminder, then send it at most once, or hold it and say why."""
        with self.db.read() as conn:
            verdict = judge_reminder(self._facts(conn, due), self.clock.now(), self._quiet_end(due))
        if verdict.outcome != "send":
            self._settle(due, verdict)
            return
        now = self.clock.now()
        try:
            message = self._message(due)
        except TemplateError as exc:
            with self.db.write() as conn:
                stored.set_reminder_status(
                    conn, send_id=due.send_id, status=SendStatus.FAILED, now=now,
                    from_status=(SendStatus.CLAIMED,), reason=f"template error: {exc}",
                )  # fmt: skip
            return
        with self.db.write() as conn:
            if not stored.mark_reminder_sending(conn, send_id=due.send_id, worker=self.worker, now=now):
                return  # taken back while we held it: nothing left
        self._record(due, self._send(message))

    def _facts(self, conn: Connection, due: DueReminder) -> ReminderFacts:
        key = self.address_keys.key(due.channel, due.to_address) if due.to_address else None
        newer = due.sent_at is not None and stored.newer_send_left(
            conn, contact_id=due.contact["id"], send_id=due.send_id, since=due.sent_at
        )
        survey = self.config.surveys.get(due.survey)
        return ReminderFacts(
            configured=survey is not None and survey.reminder is not None,
            responded=due.responded,
            expires_at=due.expires_at,
            forgotten=due.forgotten,
            opted_out=bool(key and queries.opted_out_keys(conn, [key])),
            cancelled=self._called_off(conn, due),
            delivered=due.send_status in FIRST_ASK_DELIVERED,
            has_address=bool(due.to_address),
            superseded=newer,
        )

    def _called_off(self, conn: Connection, due: DueReminder) -> bool:
        """Whether an event of the trigger's `cancel_on` came after the send's own event."""
        trigger = next((t for t in self.config.triggers if t.name == due.trigger), None)
        since = due.event_received_at or due.sent_at
        if trigger is None or trigger.cancel_on is None or since is None:
            return False
        document = {"type": trigger.on, "contact": {"id": due.contact["id"]}, "properties": due.properties}
        key = cancel_key(trigger, document)
        later = stored.later_events(
            conn, contact_id=due.contact["id"], types=[trigger.cancel_on.type], after=since
        )
        return any(cancels(trigger, key, event) for event in later)

    def _quiet_end(self, due: DueReminder) -> datetime | None:
        zone = self._zone(due)
        return end_of_quiet_hours(self.clock.now(), zone, self.config.throttle.quiet_hours)

    def _zone(self, due: DueReminder) -> Any:
        timezone, phone = due.contact.get("timezone"), due.contact.get("phone")
        return contact_timezone(timezone, phone, self.config.throttle.default_timezone)

    def _settle(self, due: DueReminder, verdict: ReminderVerdict) -> None:
        """Defer (quiet hours) or drop a reminder, and record the decision `explain` shows."""
        now = self.clock.now()
        detail = None
        with self.db.write() as conn:
            if verdict.outcome == "reminder_deferred":
                timezone, phone = due.contact.get("timezone"), due.contact.get("phone")
                detail = quiet_hours_detail(self._zone(due), timezone, phone)
                changed = stored.set_reminder_status(
                    conn, send_id=due.send_id, status=SendStatus.SCHEDULED, now=now,
                    from_status=(SendStatus.CLAIMED,), due_at=verdict.due_at, claimed_by=None,
                    claimed_at=None,
                )  # fmt: skip
            else:
                changed = stored.set_reminder_status(
                    conn, send_id=due.send_id, status=SendStatus.SUPPRESSED, now=now,
                    from_status=(SendStatus.CLAIMED,), reason=verdict.reason,
                )  # fmt: skip
            if changed:
                stored.record_reminder_decision(
                    conn, send_id=due.send_id, outcome=verdict.outcome, reason=verdict.reason,
                    due_at=verdict.due_at, now=now, detail=detail,
                )  # fmt: skip

    def _message(self, due: DueReminder) -> OutboundMessage:
        survey = self.config.surveys[due.survey]
        context = template_context(
            survey, self.links, due.send_id, name=due.survey, metric=due.metric, contact=due.contact,
            properties=due.properties,
        )  # fmt: skip
        # The reminder speaks the language the first ask spoke (its stored locale), else the
        # contact's closest, as the first ask would have chosen. On WhatsApp it goes a day after
        # the first ask, outside the 24-hour window for free text, so it opens the conversation
        # with the same approved template and variables (`outbound_message`).
        locale = due.locale or survey_locale(survey, due.contact.get("locale"))
        rendered = render_reminder_message(localized(survey, locale), due.channel, context, locale=locale)
        return outbound_message(
            self.config, due.send_id + MESSAGE_SUFFIX, due.channel, due.to_address, due.survey, due.metric,
            rendered, context, locale,
        )  # fmt: skip

    def _send(self, message: OutboundMessage) -> SendOutcome:
        try:
            return self.channels[message.channel].send(message)
        except Exception as exc:  # a channel bug must not lose track of a reminder that may have left
            log.exception("channel %s raised for reminder %s", message.channel, message.send_id)
            return SendOutcome(status=SendStatus.UNKNOWN, reason=f"channel error: {exc.__class__.__name__}")

    def _record(self, due: DueReminder, outcome: SendOutcome) -> None:
        now = self.clock.now()
        moved: dict[str, Any]
        if outcome.status == SendStatus.SENT:
            status, moved = SendStatus.SENT, {"sent_at": now, "provider_message_id": outcome.provider_id}
        elif outcome.status == RETRY and due.attempts + 1 < MAX_ATTEMPTS:
            delay = outcome.retry_after or timedelta(seconds=30)
            status = SendStatus.SCHEDULED
            moved = {"due_at": now + delay, "claimed_by": None, "claimed_at": None, "reason": outcome.reason}
        elif outcome.status == RETRY:
            status, moved = (
                SendStatus.FAILED,
                {"reason": f"gave up after {MAX_ATTEMPTS} attempts: {outcome.reason}"},
            )
        else:
            status = SendStatus.UNKNOWN if outcome.status == SendStatus.UNKNOWN else SendStatus.FAILED
            moved = {"reason": outcome.reason}
        with self.db.write() as conn:
            stored.set_reminder_status(
                conn, send_id=due.send_id, status=status, now=now, from_status=(SendStatus.SENDING,), **moved
            )
            if outcome.opt_out:
                key = self.address_keys.key(due.channel, due.to_address)
                queries.add_opt_out(conn, key=key, channel=due.channel, source="provider", now=now)
        context = {"send_id": due.send_id, "contact_id": due.contact["id"], "survey": due.survey}
        log.info("reminder of send %s %s via %s", due.send_id, outcome.status, due.channel, extra=context)

    def release(self) -> int:
        """Give back this worker's claimed reminders it has not started."""
        with self.db.write() as conn:
            return stored.release_reminder_claims(conn, worker=self.worker, now=self.clock.now())

    def recover(self) -> tuple[int, int]:
        """Settle what crashed workers left: stale claims released, stale in-flight ones `unknown`."""
        now = self.clock.now()
        cutoff = now - self.settings.lease
        with self.db.write() as conn:
            released = stored.release_reminder_claims(conn, worker=None, now=now, older_than=cutoff)
            unknown = stored.expire_reminders_in_flight(conn, now=now, older_than=cutoff)
        if released or unknown:
            log.warning("recovered reminders: %d claims released, %d in flight unknown", released, unknown)
        return released, unknown
