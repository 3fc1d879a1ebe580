"""An in-memory `RatingStore` that keeps what happened, for the rating page tests.

It follows the contract written on `bot.pages.ratings.RatingStore`, so a database store can be
checked against the same tests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from bot.pages.ratings import RatingResult, SendView

SCALES = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)}


@dataclass(frozen=True)
class StoredResponse:
    score: int
    comment: str | None
    counted: bool
    received_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredSend:
    send_id: str
    to: str
    metric: str
    open_until: datetime | None
    question: str | None = None
    comment_prompt: str | None = None
    locale: str | None = None


class MemoryRatingStore:
    """Sends, their one response each, and opted-out addresses; safe across threads."""

    def __init__(self) -> None:
        self.sends: dict[str, StoredSend] = {}
        self.responses: dict[str, StoredResponse] = {}
        self.opted_out: dict[str, datetime] = {}  # address -> when
        self._lock = threading.Lock()

    def add_send(self, send: StoredSend) -> None:
        with self._lock:
            self.sends[send.send_id] = send

    def get_send(self, send_id: str) -> SendView | None:
        with self._lock:
            send = self.sends.get(send_id)
            if send is None:
                return None
            response = self.responses.get(send_id)
        return SendView(
            send_id=send.send_id,
            metric=send.metric,
            scale=SCALES[send.metric],
            open_until=send.open_until,
            score=response.score if response else None,
            comment=response.comment if response else None,
            question=send.question,
            comment_prompt=send.comment_prompt,
            locale=send.locale,
        )

    def record_rating(self, send_id: str, score: int, comment: str | None, now: datetime) -> RatingResult:
        with self._lock:
            send = self.sends[send_id]
            is_open = send.open_until is None or now < send.open_until
            earlier = self.responses.get(send_id)
            if earlier is None:
                self.responses[send_id] = StoredResponse(score, comment or None, is_open, now, now)
                return "recorded"
            if not is_open:
                return "closed"
            kept = earlier.comment if comment is None else (comment or None)
            self.responses[send_id] = replace(earlier, score=score, comment=kept, updated_at=now)
            return "updated"

    def opt_out_send_address(self, send_id: str, now: datetime) -> bool:
        with self._lock:
            send = self.sends.get(send_id)
            if send is None:
                return False
            self.opted_out.setdefault(send.to, now)
            return True
