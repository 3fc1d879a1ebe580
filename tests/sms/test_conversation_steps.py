"""The SMS reply conversation, step by step, as a customer would text it."""

from __future__ import annotations

import pytest

from bot.channels.segments import sms_segments
from bot.sms.conversation import ReplyAction, ReplyState, decide_reply
from bot.sms.parsing import parse_reply
from bot.texts import sms as sms_texts

CSAT = (1, 5)
FOLLOW_UP = "Thanks! What is the main reason for your score?"


def step(
    text: str,
    state: ReplyState = None,
    *,
    follow_up: str | None = FOLLOW_UP,
    has_open_send: bool = True,
    expired: bool = False,
) -> ReplyAction:
    return decide_reply(
        parse_reply(text, CSAT),
        state,
        has_open_send=has_open_send,
        expired=expired,
        scale=CSAT,
        follow_up=follow_up,
    )


def converse(*texts: str, follow_up: str | None = FOLLOW_UP) -> list[ReplyAction]:
    state: ReplyState = None
    actions = []
    for text in texts:
        action = step(text, state, follow_up=follow_up)
        actions.append(action)
        state = action.next_state
    return actions


def test_score_then_follow_up_then_comment() -> None:
    score, comment = converse("4", "5 stars for Sam, but the wait was long")

    assert (score.record, score.score, score.answer) == ("score", 4, FOLLOW_UP)
    assert score.next_state == "awaiting_comment"
    assert comment.record == "comment"
    assert comment.comment == "5 stars for Sam, but the wait was long"  # not a new score
    assert (comment.answer, comment.next_state) == (sms_texts.thanks(), "done")


def test_a_score_with_words_needs_no_follow_up() -> None:
    [action] = converse("2 - nobody called back")

    assert (action.record, action.score, action.comment) == ("score", 2, "nobody called back")
    assert (action.answer, action.next_state) == (sms_texts.thanks(), "done")


def test_without_a_follow_up_question_the_score_ends_it() -> None:
    [action] = converse("five", follow_up=None)

    assert (action.score, action.answer, action.next_state) == (5, sms_texts.thanks(), "done")


def test_no_score_gets_a_reprompt_and_the_text_is_kept() -> None:
    [first] = converse("what is this?")

    assert (first.record, first.comment, first.score) == ("extra", "what is this?", None)
    assert first.answer == sms_texts.reprompt(CSAT)
    assert first.next_state == "awaiting_score_reprompted"


def test_a_score_after_the_reprompt_counts() -> None:
    first, second = converse("hmm", "3")

    assert first.next_state == "awaiting_score_reprompted"
    assert (second.record, second.score, second.answer) == ("score", 3, FOLLOW_UP)


def test_a_second_reply_without_a_score_gets_no_second_reprompt() -> None:
    _, second = converse("hmm", "9")

    assert (second.record, second.comment, second.answer) == ("extra", "9", None)
    assert second.next_state == "awaiting_score_reprompted"


def test_a_valid_score_after_the_reprompt_still_counts_while_open() -> None:
    first, second, third, fourth = converse("hmm", "not sure", "ok, 4", "the app is slow")

    assert first.answer is not None and second.answer is None  # one re-prompt only
    assert (third.record, third.score, third.answer) == ("score", 4, FOLLOW_UP)
    assert (fourth.record, fourth.comment) == ("comment", "the app is slow")


def test_texts_after_the_end_are_kept_without_an_answer() -> None:
    action = step("also the app crashed", "done")

    assert (action.record, action.comment, action.answer) == ("extra", "also the app crashed", None)


@pytest.mark.parametrize("state", [None, "awaiting_score_reprompted", "awaiting_comment", "done"])
@pytest.mark.parametrize(("text", "record"), [("STOP", "opt_out"), ("start", "opt_in")])
def test_opt_keywords_work_in_every_state_without_our_answer(
    state: ReplyState, text: str, record: str
) -> None:
    action = step(text, state)

    assert (action.record, action.answer, action.next_state) == (record, None, state)


def test_help_is_answered_and_keeps_the_conversation_where_it_was() -> None:
    action = step("help", "awaiting_comment")

    assert (action.record, action.answer) == ("none", sms_texts.help_text())
    assert action.next_state == "awaiting_comment"


def test_a_reply_with_no_open_survey_is_stored_and_answered() -> None:
    action = step("5", has_open_send=False)

    assert (action.record, action.comment, action.score) == ("unmatched", "5", None)
    assert action.answer == sms_texts.no_open_survey()


def test_a_reply_after_expiry_is_kept_not_counted() -> None:
    scored = step("5 great", expired=True)
    words = step("is this still open?", expired=True)

    assert (scored.record, scored.score, scored.comment) == ("late", 5, "great")
    assert (words.record, words.score, words.comment) == ("late", None, "is this still open?")
    assert scored.answer == words.answer == sms_texts.survey_closed()


def test_opt_out_wins_even_without_an_open_survey() -> None:
    assert step("Stop", has_open_send=False).record == "opt_out"


@pytest.mark.parametrize(
    "text", [*(make() for make in sms_texts.ALL_FIXED_TEXTS), sms_texts.reprompt((0, 10))]
)
def test_our_answers_fit_one_gsm_segment(text: str) -> None:
    assert sms_segments(text) == (1, "GSM-7")


@pytest.mark.parametrize("language", ["es", "fr", "de", "pt", "ar"])
def test_our_answers_in_other_languages_take_at_most_two_segments(language: str) -> None:
    texts = [make(language) for make in sms_texts.ALL_FIXED_TEXTS] + [sms_texts.reprompt((0, 10), language)]
    assert [text for text in texts if sms_segments(text)[0] > 2] == []
    assert len(set(texts) & {make() for make in sms_texts.ALL_FIXED_TEXTS}) == 0  # translated, all of them
