"""Recording answers, whichever way they come (rating page, SMS reply), and telling listeners.

`Responses` is the database side of the rating pages (`bot.web.ratings.RatingStore`) and of
SMS replies; listeners (Slack alerts) hear of every score recorded or changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.web.ratings import RatingResult, SendView
from storage import queries
from storage import responses as answers
from storage.db import Database
from triggers.addresses import AddressKeys

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


Listener = Callable[[ScoreRecorded], None]


class Responses:
    def __init__(self, db: Database, config: Config, address_keys: AddressKeys) -> None:
        self.db = db
        self.config = config
        self.address_keys = address_keys
        self.listeners: list[Listener] = []

    def get_send(self, send_id: str) -> SendView | None:
        with self.db.read() as conn:
            answer = answers.load_send_answer(conn, send_id)
        if answer is None or answer.survey not in self.config.surveys:
            return None
        survey = self.config.surveys[answer.survey]
        return SendView(
            answer.send_id, answer.metric, survey.scale, answer.expires_at, answer.score, answer.comment
        )

    def record_rating(self, send_id: str, score: int, comment: str | None, now: datetime) -> RatingResult:
        with self.db.write() as conn:
            answer = answers.load_send_answer(conn, send_id)
            if answer is None:
                return "closed"
            result = answers.record_response(conn, answer, score=score, comment=comment, now=now)
        if result != "closed":
            self._tell(
                ScoreRecorded(
                    send_id,
                    answer.survey,
                    answer.contact_id,
                    answer.channel,
                    score,
                    comment,
                    answer.is_open(now),
                    now,
                )
            )
        return result

    def opt_out_send_address(self, send_id: str, now: datetime) -> bool:
        with self.db.write() as conn:
            answer = answers.load_send_answer(conn, send_id)
            if answer is None or not answer.to_address:
                return False
            key = self.address_keys.key(answer.channel, answer.to_address)
            queries.add_opt_out(conn, key=key, channel=answer.channel, source="unsubscribe_link", now=now)
        log.info("send %s: its address opted out by unsubscribe link", send_id, extra={"send_id": send_id})
        return True

    def _tell(self, recorded: ScoreRecorded) -> None:
        for listener in self.listeners:
            try:
                listener(recorded)
            except Exception:
                log.exception("a response listener failed", extra={"send_id": recorded.send_id})
