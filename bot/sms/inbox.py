"""SMS coming back: replies to surveys, keywords, and the provider's delivery reports.

`SmsInbox.receive` takes one inbound SMS (already authenticated by the web layer) and returns
what to answer. In one transaction it stores the message (every message is kept, whether or
not a survey is open), matches it to the sender's latest SMS send, runs the conversation
(`bot.sms.conversation.decide_reply`), records scores and comments through `bot.responses.recorder`, moves
the send's `reply_state` and applies STOP/START to the number. Listeners hear of a score only
after that transaction has committed.

A send is open for replies while it is the latest SMS send to the number that may have
reached it (sent, delivered, undelivered or unknown) and its conversation is not `done`; a
newer survey to the number takes over from an older one, and a finished conversation is not
reopened by a later text (that text is `unmatched`).

Answers are in the language of the number's latest send (`sends.locale`); a keyword in
another language than English (AYUDA, ARRET) is answered in its own language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from jinja2 import TemplateError

from bot.config import Config
from bot.dispatch.fallback import fall_back
from bot.outbound.writer import OptOutSource
from bot.responses.recorder import Responses, ScoreRecorded
from bot.runtime.clock import Clock
from bot.sms.conversation import ReplyAction, ReplyState, decide_reply
from bot.sms.parsing import parse_reply
from bot.sms.whatsapp import TappedChoice, read_choice
from bot.texts import sms as sms_texts
from bot.texts.catalogs import ui_language
from bot.texts.rendering import render_text
from bot.texts.translations import localized
from storage import inbound, queries
from storage import responses as answers
from storage.db import Connection, Database
from storage.inbound import RepliedSend
from storage.models import SendStatus
from triggers.addresses import AddressKeys

log = logging.getLogger(__name__)

ANY_SCALE = (0, 10)  # with no survey open only keywords matter; any scale reads them
BODY_MAX = 1600  # Twilio's longest message; anything longer is not from a handset
UNSUBSCRIBED = "21610"  # Twilio: the recipient has replied STOP to this sender
FALLBACK_AFTER = (SendStatus.UNDELIVERED, SendStatus.FAILED)  # reported after the send left


@dataclass(frozen=True)
class InboundSms:
    """One message in; `from_` is the bare number, `channel` says whether it came by SMS or
    WhatsApp, `choice` is a WhatsApp button or list item that was tapped."""

    message_sid: str
    from_: str
    to: str
    body: str
    channel: str = "sms"
    choice: TappedChoice | None = None


@dataclass(frozen=True)
class DeliveryReport:
    """Twilio's status callback for one message we sent."""

    message_sid: str
    status: str
    error_code: str | None = None


class SmsInbox:
    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        address_keys: AddressKeys,
        responses: Responses,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.address_keys = address_keys
        self.responses = responses

    def receive(self, sms: InboundSms) -> str | None:
        """Take one inbound SMS; returns the text to answer with (None: say nothing).

        The same `message_sid` again changes nothing and gets the answer given the first time.
        Database errors propagate (the caller answers 5xx, so Twilio may retry)."""
        sms = _cleaned(sms)
        now = self.clock.now()
        recorded: ScoreRecorded | None = None
        with self.db.write() as conn:
            # One sender's messages one at a time: "5" and its comment may arrive together.
            queries.lock_keys(conn, [f"{sms.channel}-from:{sms.from_}"])
            seen, answer = inbound.stored_answer(conn, sms.message_sid)
            if seen:
                return answer
            latest = inbound.latest_sms_send(conn, sms.from_, channel=sms.channel)
            send = self._open_send(latest)
            language = latest.locale if latest else None
            action = confirm_keyword(self._decide(send, sms, now, language=language), sms.channel, language)
            recorded = self._apply(conn, send, sms, action, now)
            inbound.insert_inbound(conn, message_sid=sms.message_sid, from_address=sms.from_,
                                   to_address=sms.to, body=sms.body, kind=_kind(action),
                                   send_id=send.id if send else None, answer=action.answer,
                                   received_at=now)  # fmt: skip
        if recorded is not None:
            self.responses.announce(recorded)
        log.info("inbound %s %s: %s", sms.channel, sms.message_sid, _kind(action),
                 extra={"send_id": send.id if send else None,
                        "contact_id": send.contact["id"] if send else None})  # fmt: skip
        return action.answer

    def record_report(self, report: DeliveryReport) -> bool:
        """Apply a delivery report to its send, never moving it backwards; error 21610 opts
        the number out. False when no send has that message id."""
        now = self.clock.now()
        reason = f"Twilio error {report.error_code}" if report.error_code else None
        with self.db.write() as conn:
            change = inbound.record_provider_status(
                conn, message_sid=report.message_sid, status=report.status, reason=reason, now=now
            )
            if change is None:
                return False
            if change.moved and report.status in ("failed", "undelivered"):
                failed: Literal["failed", "undelivered"] = (
                    "failed" if report.status == "failed" else "undelivered"
                )
                self.responses.outbox.send_failed(
                    conn, send_id=change.send_id, status=failed, reason=reason, now=now
                )
            if report.error_code == UNSUBSCRIBED and change.to_address:
                key = self.address_keys.key(change.channel, change.to_address)
                if queries.add_opt_out(conn, key=key, channel=change.channel, source="provider", now=now):
                    self.responses.outbox.opted_out(
                        conn, channel=change.channel, source="provider", now=now, send_id=change.send_id
                    )
            elif change.moved and report.status in FALLBACK_AFTER and change.previous == SendStatus.SENT:
                # never after `unknown`: that send may have reached the contact by another way
                fall_back(conn, config=self.config, address_keys=self.address_keys,
                          send_id=change.send_id, reason=reason, now=now)  # fmt: skip
        return True

    def _open_send(self, send: RepliedSend | None) -> RepliedSend | None:
        if send is None or send.reply_state == "done" or send.survey not in self.config.surveys:
            return None
        return send

    def _decide(
        self, send: RepliedSend | None, sms: InboundSms, now: datetime, *, language: str | None
    ) -> ReplyAction:
        survey = self.config.surveys[send.survey] if send else None
        scale = survey.scale if survey else ANY_SCALE
        state: ReplyState = _state(send.reply_state) if send else None
        reply = read_choice(sms.choice, sms.body, scale) if sms.choice else parse_reply(sms.body, scale)
        if state == "awaiting_comment" and sms.choice:
            reply = parse_reply(sms.body, scale)  # a late tap on the question is text, like a typed "5"
        if reply.language and reply.language != "en":
            language = reply.language
        return decide_reply(
            reply,
            state,
            has_open_send=send is not None,
            expired=send.expired(now) if send else False,
            scale=scale,
            follow_up=self._follow_up(send) if send else None,
            language=language or (survey.locale if survey else "en"),
            brand=self.config.brand,
        )

    def _follow_up(self, send: RepliedSend) -> str | None:
        """The survey's follow-up question rendered for this contact in the send's language;
        None if it has none or it cannot be rendered (the customer is thanked instead)."""
        survey = self.config.surveys[send.survey]
        source = localized(survey, send.locale).follow_up if send.locale else survey.follow_up
        if not source:
            return None
        try:
            return render_text(source, {"contact": send.contact, "properties": send.properties,
                                        "survey": send.survey}) or None  # fmt: skip
        except TemplateError:
            log.exception("follow_up of survey %s does not render", send.survey, extra={"send_id": send.id})
            return None

    def _apply(
        self, conn: Connection, send: RepliedSend | None, sms: InboundSms, action: ReplyAction, now: datetime
    ) -> ScoreRecorded | None:
        """Store what the action says; returns the score change to announce after commit."""
        if action.record in ("opt_out", "opt_in"):
            self._set_opt_out(conn, sms.channel, sms.from_, opted_out=action.record == "opt_out", now=now,
                              send_id=send.id if send else None)  # fmt: skip
        if send is None:
            return None
        if action.next_state != send.reply_state:
            inbound.set_reply_state(conn, send.id, action.next_state, now)
        if action.record in ("score", "late") and action.score is not None:
            return self.responses.record_within(conn, send.id, action.score, action.comment, now)[1]
        if action.record == "comment" and action.comment:
            return self._record_comment(conn, send.id, action.comment, now)
        return None

    def _record_comment(
        self, conn: Connection, send_id: str, comment: str, now: datetime
    ) -> ScoreRecorded | None:
        answer = answers.load_send_answer(conn, send_id)
        if answer is None or answer.score is None:
            return None
        return self.responses.record_within(conn, send_id, answer.score, comment, now)[1]

    def _set_opt_out(
        self,
        conn: Connection,
        channel: str,
        number: str,
        *,
        opted_out: bool,
        now: datetime,
        send_id: str | None,
    ) -> None:
        """STOP opts the number out of the channel it came by: SMS or WhatsApp, not both."""
        key = self.address_keys.key(channel, number)
        if opted_out:
            source: OptOutSource = "whatsapp_keyword" if channel == "whatsapp" else "sms_keyword"
            if queries.add_opt_out(conn, key=key, channel=channel, source=source, now=now):
                self.responses.outbox.opted_out(
                    conn, channel=channel, source=source, now=now, send_id=send_id
                )
        else:
            queries.remove_opt_out(conn, key=key)


def confirm_keyword(action: ReplyAction, channel: str, language: str | None) -> ReplyAction:
    """By SMS, Twilio answers STOP and START itself (and would block our answer to STOP); over
    WhatsApp nobody does, so the customer hears from us that it worked, in the language of the
    survey they were sent."""
    if channel != "whatsapp" or action.record not in ("opt_out", "opt_in"):
        return action
    confirm = sms_texts.opted_out if action.record == "opt_out" else sms_texts.opted_in
    return replace(action, answer=confirm(ui_language(language), channel="whatsapp"))


def _kind(action: ReplyAction) -> str:
    """How the message is filed in `inbound_messages.kind`."""
    if action.record == "extra" and action.answer is not None:
        return "reprompt"
    if action.record == "none":
        return "help"
    return action.record


def _state(value: str | None) -> ReplyState:
    if value in ("awaiting_score_reprompted", "awaiting_comment", "done"):
        return value  # type: ignore[return-value]
    return None


def _cleaned(sms: InboundSms) -> InboundSms:
    """PostgreSQL text cannot hold NUL; nothing a person types needs it, nor more than BODY_MAX."""
    return InboundSms(
        sms.message_sid.replace("\x00", ""),
        sms.from_.replace("\x00", "").strip(),
        sms.to.replace("\x00", "").strip(),
        sms.body.replace("\x00", "")[:BODY_MAX],
        sms.channel,
        TappedChoice(_no_nul(sms.choice.payload), _no_nul(sms.choice.label)) if sms.choice else None,
    )


def _no_nul(text: str) -> str:
    return text.replace("\x00", "")
