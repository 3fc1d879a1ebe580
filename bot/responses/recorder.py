"""Recording answers, whichever way they come (rating page, SMS reply), and telling listeners.

`Responses` is the database side of the rating pages (`bot.pages.ratings.RatingStore`) and of
SMS replies; listeners (Slack alerts) hear of every score recorded or changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.outbound.writer import OutboxWriter
from bot.pages.ratings import RatingResult, SendView
from bot.texts.rendering import follow_up_text, page_question
from bot.texts.translations import localized, survey_locale
from storage import outcomes, queries
from storage import responses as answers
from storage.db import Connection, Database
from triggers.addresses import AddressKeys
from triggers.follow_ups import follow_ups

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoreRecorded:
    """What listeners hear: a score was recorded or changed for a send."""

    send_id: str
    survey: str
    contact_id: str
    channel: str
    score: int
    comment: str | None
    counted: bool
    at: datetime
    test: bool = False  # a reply to `surveybot send-test`: no alert, no metric


Listener = Callable[[ScoreRecorded], None]


class Responses:
    def __init__(self, db: Database, config: Config, address_keys: AddressKeys) -> None:
        self.db = db
        self.config = config
        self.follow_ups = follow_ups(config.outcomes)  # docs/outcomes.md
        self.address_keys = address_keys
        self.listeners: list[Listener] = []
        self.outbox = OutboxWriter()  # the app sets the configured one

    def get_send(self, send_id: str) -> SendView | None:
        """The send for its pages: in the language it went out in, with the survey's own
        question and follow-up rendered for the contact."""
        with self.db.read() as conn:
            answer = answers.load_send_answer(conn, send_id)
            context = answers.load_send_context(conn, send_id)
        if answer is None or context is None or answer.survey not in self.config.surveys:
            return None
        survey = self.config.surveys[answer.survey]
        locale = context.locale or survey_locale(survey, context.contact.get("locale"))
        texts = localized(survey, locale)
        values = {"contact": context.contact, "properties": context.properties, "survey": answer.survey}
        return SendView(
            answer.send_id, answer.metric, survey.scale, answer.expires_at, answer.score, answer.comment,
            question=page_question(texts, values), comment_prompt=follow_up_text(texts, values),
            locale=locale,
        )  # fmt: skip

    def record_rating(self, send_id: str, score: int, comment: str | None, now: datetime) -> RatingResult:
        with self.db.write() as conn:
            result, recorded = self.record_within(conn, send_id, score, comment, now)
        if recorded is not None:
            self.announce(recorded)
        return result

    def record_within(
        self, conn: Connection, send_id: str, score: int, comment: str | None, now: datetime
    ) -> tuple[RatingResult, ScoreRecorded | None]:
        """`record_rating` inside the caller's transaction. Listeners are not told yet: the
        caller passes the `ScoreRecorded` (None when nothing changed) to `announce` once its
        transaction has committed, so no listener hears of a score that was rolled back."""
        answer = answers.load_send_answer(conn, send_id)
        if answer is None:
            return "closed", None
        result = answers.record_response(conn, answer, score=score, comment=comment, now=now)
        if result == "closed":
            return result, None
        outcomes.follow_answer(conn, send_id, self.follow_ups)
        final_comment = answer.comment if comment is None else (comment or None)
        recorded = ScoreRecorded(
            send_id=send_id,
            survey=answer.survey,
            contact_id=answer.contact_id,
            channel=answer.channel,
            score=score,
            comment=final_comment,
            counted=answer.is_open(now) and not answer.test,
            at=now,
            test=answer.test,
        )
        self.outbox.response_recorded(
            conn, send_id=send_id, score=score, comment=final_comment, counted=recorded.counted,
            updated=result == "updated", now=now,
        )  # fmt: skip
        return result, recorded

    def announce(self, recorded: ScoreRecorded) -> None:
        """Tell every listener; one failing listener does not stop the others."""
        self._tell(recorded)

    def opt_out_send_address(self, send_id: str, now: datetime) -> bool:
        with self.db.write() as conn:
            answer = answers.load_send_answer(conn, send_id)
            if answer is None:
                return False
            # An erased send keeps only its address's keyed hash: enough to opt it out.
            key = (
                self.address_keys.key(answer.channel, answer.to_address)
                if answer.to_address
                else answer.address_key
            )
            if key is None:
                return False
            if queries.add_opt_out(conn, key=key, channel=answer.channel, source="unsubscribe_link", now=now):
                self.outbox.opted_out(conn, channel=answer.channel, source="unsubscribe_link", now=now,
                                      send_id=send_id, contact_id=answer.contact_id)  # fmt: skip
        log.info("send %s: its address opted out by unsubscribe link", send_id, extra={"send_id": send_id})
        return True

    def _tell(self, recorded: ScoreRecorded) -> None:
        for listener in self.listeners:
            try:
                listener(recorded)
            except Exception:
                log.exception("a response listener failed", extra={"send_id": recorded.send_id})
