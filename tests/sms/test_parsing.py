"""Reading SMS replies: scores, keywords, and anything else a customer might text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sms.parsing import ParsedReply, parse_reply

CSAT, CES, NPS = (1, 5), (1, 7), (0, 10)


@pytest.mark.parametrize(
    ("text", "scale", "score", "comment"),
    [
        ("5", CSAT, 5, None),
        ("  5  ", CSAT, 5, None),
        ("5 great service", CSAT, 5, "great service"),
        ("4 - quick but a bit rude", CSAT, 4, "quick but a bit rude"),
        ("3: ok I guess", CSAT, 3, "ok I guess"),
        ("2, slow", CSAT, 2, "slow"),
        ("5!", CSAT, 5, None),
        ("5/5", CSAT, 5, None),
        ("4 out of 5 stars - fine", CSAT, 4, "fine"),
        ("five", CSAT, 5, None),
        ("Five stars", CSAT, 5, None),
        ("FOUR thanks", CSAT, 4, "thanks"),
        ("Ten", NPS, 10, None),
        ("nine out of ten", NPS, 9, None),
        ("zero", NPS, 0, None),
        ("0", NPS, 0, None),
        ("10", NPS, 10, None),
        ("10 would recommend", NPS, 10, "would recommend"),
        ("5️⃣", CSAT, 5, None),
        ("5️⃣ great", CSAT, 5, "great"),
        ("🔟", NPS, 10, None),
        ("1️⃣0️⃣ superb", NPS, 10, "superb"),
        ("\uff17", CES, 7, None),  # full-width 7, as some phone keyboards send
        ("5 great ﬁx", CSAT, 5, "great ﬁx"),  # the comment is kept as written
        ("5 ⭐⭐⭐⭐⭐", CSAT, 5, "⭐⭐⭐⭐⭐"),
    ],
)
def test_scores_are_read(text: str, scale: tuple[int, int], score: int, comment: str | None) -> None:
    reply = parse_reply(text, scale)

    assert (reply.kind, reply.score, reply.comment) == ("score", score, comment)


@pytest.mark.parametrize(
    ("text", "scale"),
    [
        ("6", CSAT),
        ("0", CSAT),
        ("11", NPS),
        ("🔟", CSAT),
        ("-1", NPS),
        ("4.5", CSAT),
        ("3,5", CSAT),
        ("5th time I called", CSAT),
        ("12345", CSAT),
        ("great service", CSAT),
        ("I'd say 9", CSAT),  # one number, but off the scale
        ("ticket 12 took 3 days", CSAT),  # two numbers: which one?
        ("waited 2 hours", CSAT),  # a quantity, not a rating
        ("called at 3pm", CSAT),
        ("about 2x faster", CSAT),
        ("had to call 3 times", CSAT),
        ("my order number is 4 btw thanks a lot for it", CSAT),  # too long to be only a rating
        ("fivefold", CSAT),
        ("", CSAT),
        ("   ", CSAT),
        ("stop please", CSAT),
    ],
)
def test_no_valid_score_is_plain_text(text: str, scale: tuple[int, int]) -> None:
    reply = parse_reply(text, scale)

    assert reply == ParsedReply(kind="text", text=text.strip())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("STOP", "opt_out"),
        ("stop", "opt_out"),
        (" Stop! ", "opt_out"),
        ("STOPALL", "opt_out"),
        ("unsubscribe.", "opt_out"),
        ("Cancel", "opt_out"),
        ("END", "opt_out"),
        ("quit", "opt_out"),
        ("REVOKE", "opt_out"),
        ("OptOut", "opt_out"),
        ('"STOP"', "opt_out"),
        ("START", "opt_in"),
        ("yes!", "opt_in"),
        ("unstop", "opt_in"),
        ("HELP", "help"),
        ("info?", "help"),
        ("\uff33\uff54\uff4f\uff50", "opt_out"),  # full-width "Stop"
    ],
)
def test_keywords_are_recognised_alone(text: str, kind: str) -> None:
    reply = parse_reply(text, NPS)

    assert (reply.kind, reply.score) == (kind, None)


SCALES = st.sampled_from([CSAT, CES, NPS]) | st.tuples(st.integers(-5, 20), st.integers(-5, 20)).map(
    lambda pair: (min(pair), max(pair))
)


@settings(max_examples=1000)
@given(text=st.text(), scale=SCALES)
def test_any_text_parses_and_scores_stay_on_the_scale(text: str, scale: tuple[int, int]) -> None:
    reply = parse_reply(text, scale)

    assert reply.kind in {"score", "opt_out", "opt_in", "help", "text"}
    if reply.kind == "score":
        assert reply.score is not None and scale[0] <= reply.score <= scale[1]
    else:
        assert reply.score is None


SCORE_LIKE = st.sampled_from(
    ["5", "10", "\uff10", "five", "TEN", "5️⃣", "🔟", "1️⃣0️⃣", "4/5", "3 out of 7", "9 stars", "-", " "]
)


@settings(max_examples=1000)
@given(
    parts=st.lists(SCORE_LIKE | st.text(max_size=5), max_size=6),
    scale=SCALES,
)
def test_score_like_noise_never_escapes_the_scale(parts: list[str], scale: tuple[int, int]) -> None:
    reply = parse_reply("".join(parts), scale)

    if reply.score is not None:
        assert scale[0] <= reply.score <= scale[1]
        assert reply.kind == "score"


@given(score=st.integers(1, 5), comment=st.text(min_size=1).filter(lambda c: c.strip()))
def test_a_score_then_words_keeps_the_words(score: int, comment: str) -> None:
    reply = parse_reply(f"{score} - {comment.strip()}x", CSAT)

    assert reply.score == score
    assert reply.comment is not None and reply.comment.endswith("x")


@pytest.mark.parametrize(
    ("text", "scale", "score"),
    [
        ("I'd say 3", CSAT, 3),
        ("3 stars", CSAT, 3),
        ("prob a 4 tbh", CSAT, 4),
        ("I'd give it 4/5", CSAT, 4),
        ("maybe 4 out of 5", CSAT, 4),
        ("hmm, 7", CES, 7),
        ("solid 9!", NPS, 9),
        ("I'd say 5️⃣", CSAT, 5),
    ],
)
def test_a_short_reply_with_one_number_on_the_scale_is_that_score(
    text: str, scale: tuple[int, int], score: int
) -> None:
    reply = parse_reply(text, scale)

    assert (reply.kind, reply.score, reply.comment) == ("score", score, None)
