"""The SMS reply conversation: from a parsed reply and where the send stands, what to do.

Pure: `decide_reply` reads no storage and sends nothing. The webhook looks up the contact's
open send (its `reply_state`, whether it expired, the survey's follow-up), parses the text
with `bot.sms.parsing.parse_reply`, calls `decide_reply`, stores what `ReplyAction.record` says,
sets the send's `reply_state` to `next_state`, and answers with `answer` (TwiML; no message
when it is None).

The states of a send, in order (None is the start):
  None                        waiting for a score, nothing asked again yet
  "awaiting_score_reprompted" one reply without a score came and was answered with a re-prompt
  "awaiting_comment"          the score is in; the follow-up question was asked
  "done"                      score (and comment) in; later texts are kept as `extra`

Rules, in this order:
  1. keywords win in any state: STOP etc. -> `opt_out`, START etc. -> `opt_in`, both with no
     answer of ours (Twilio answers those keywords itself and would block our reply to STOP),
     but a confirmation for the same keywords in another language (ARRET, BAJA), which Twilio
     does not know;
     HELP/INFO -> the help text. The state does not change;
  2. no open send -> `unmatched`, stored, answered politely; an expired one -> `late`, stored,
     not counted;
  3. waiting for a score: a score is recorded; the follow-up is asked unless the score came
     with words (those are the comment) or the survey has none. A reply without a score gets
     one re-prompt; later ones are kept as `extra` without an answer, and a valid score still
     counts while the survey is open (no second re-prompt needed);
  4. waiting for the comment: the whole reply is the comment, even if it starts with a number.

Our answers are in `language` (the send's; see `bot.texts.sms`), HELP's with the `brand`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.sms.parsing import ParsedReply
from bot.texts import sms as sms_texts
from bot.texts.brand import BrandConfig

ReplyState = Literal["awaiting_score_reprompted", "awaiting_comment", "done"] | None
Record = Literal["score", "comment", "opt_out", "opt_in", "unmatched", "late", "extra", "none"]


@dataclass(frozen=True)
class ReplyAction:
    """What to store and answer.

    `record` says what the reply is: `score` (with `score`, maybe `comment`), `comment` (the
    follow-up's answer, in `comment`), `opt_out`/`opt_in` (the sender's number, every survey),
    `unmatched` (no open send), `late` (after expiry: kept, not counted; with `score` and
    `comment` when it carried a score, else the whole text in `comment`), `extra` (kept on the
    send, not a rating) or `none` (nothing to store).
    """

    record: Record
    next_state: ReplyState
    answer: str | None
    score: int | None = None
    comment: str | None = None


def decide_reply(
    reply: ParsedReply,
    state: ReplyState,
    *,
    has_open_send: bool,
    expired: bool = False,
    scale: tuple[int, int],
    follow_up: str | None = None,
    language: str = "en",
    brand: BrandConfig | None = None,
) -> ReplyAction:
    """The next step of the conversation for one inbound SMS (see the module docstring)."""
    if reply.kind in ("opt_out", "opt_in"):
        return ReplyAction(record=reply.kind, next_state=state, answer=_confirmation(reply, language))
    if reply.kind == "help":
        return ReplyAction(record="none", next_state=state, answer=sms_texts.help_text(language, brand))
    if not has_open_send:
        return ReplyAction(
            record="unmatched",
            next_state=state,
            answer=sms_texts.no_open_survey(language),
            comment=reply.text,
        )
    if expired:
        return _late(reply, state, language)
    if state == "awaiting_comment":
        thanks = sms_texts.thanks(language)
        return ReplyAction(record="comment", next_state="done", answer=thanks, comment=reply.text)
    if state == "done":
        return ReplyAction(record="extra", next_state="done", answer=None, comment=reply.text)
    return _awaiting_score(reply, state, scale, follow_up, language)


def _awaiting_score(
    reply: ParsedReply, state: ReplyState, scale: tuple[int, int], follow_up: str | None, language: str
) -> ReplyAction:
    if reply.kind == "score":
        ask = follow_up if follow_up and not reply.comment else None
        return ReplyAction(
            record="score",
            next_state="awaiting_comment" if ask else "done",
            answer=ask or sms_texts.thanks(language),
            score=reply.score,
            comment=reply.comment,
        )
    if state is None:
        return ReplyAction(
            record="extra",
            next_state="awaiting_score_reprompted",
            answer=sms_texts.reprompt(scale, language),
            comment=reply.text,
        )
    # Only one re-prompt: a customer who still sends no score is not pestered again, but the
    # survey stays open for a score that comes later.
    return ReplyAction(record="extra", next_state=state, answer=None, comment=reply.text)


def _confirmation(reply: ParsedReply, language: str) -> str | None:
    """Twilio confirms its own English keywords; we confirm the others, in their language."""
    if reply.language in (None, "en"):
        return None
    return sms_texts.opted_out(language) if reply.kind == "opt_out" else sms_texts.opted_in(language)


def _late(reply: ParsedReply, state: ReplyState, language: str) -> ReplyAction:
    """After expiry a score is still kept (a response with counted=False), never counted."""
    closed = sms_texts.survey_closed(language)
    if reply.kind == "score":
        return ReplyAction(
            record="late", next_state=state, answer=closed, score=reply.score, comment=reply.comment
        )
    return ReplyAction(record="late", next_state=state, answer=closed, comment=reply.text)
